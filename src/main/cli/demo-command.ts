// `burrow demo`: the embedded server, demo backends (HTTP, WebSocket, gRPC
// echo), an agent with a tunnel to each, and the web inspector, in one process.
import { AppService } from '../service/app-service.js';
import { parseHostPort } from '../tunnel/host-port.js';
import { runAgent, trafficLimitsFor } from './agent-command.js';
import { log } from './lifecycle.js';
import { UsageError } from './usage-error.js';

export interface DemoCommandOptions {
  public: string;
  inspect: string | false;
}

/** Hosts the demo's public port may name: its server listens on loopback only, as the app's local test server does. */
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export async function runDemo(options: DemoCommandOptions): Promise<void> {
  const { host, port: publicPort } = parseHostPort(options.public);
  // Served on another address, the demo backends would be open to the network; taken silently, the host was ignored.
  if (!loopbackHosts.has(host)) throw new UsageError(`--public: burrow demo listens on this machine only (127.0.0.1:PORT), not on ${host}`);
  const service = await AppService.open({
    initial: { settings: { serverAddress: '127.0.0.1:0', token: '', tls: 'off', caFile: '', embeddedServer: true, embeddedPublicPort: publicPort }, tunnels: [] },
    log: (line) => log(`burrow: ${line}`),
    trafficLimits: trafficLimitsFor(options.inspect),
  });
  const embedded = await service.getEmbeddedServer();
  if (!embedded.running || embedded.demoTargets === undefined) {
    // The service has said why (its log, above), when it knew.
    if (embedded.error === undefined) log('burrow: the embedded server did not start');
    process.exit(1);
  }
  process.stdout.write(`burrow demo: embedded server at ${embedded.controlAddress}, public traffic on ${embedded.publicBaseUrl}\n`);
  await runAgent([], { server: embedded.controlAddress!, inspect: options.inspect }, service);
  const web = await service.createTunnel({ name: 'demo', protocol: 'http', target: embedded.demoTargets.http });
  await service.createTunnel({ name: 'demo-grpc', protocol: 'grpc', target: embedded.demoTargets.grpc });
  const base = new URL(embedded.publicBaseUrl!.replace('*', 'demo'));
  service.on('tunnels', function hint(views) {
    if (!views.some((v) => v.id === web.id && v.status === 'online')) return;
    service.off('tunnels', hint);
    process.stdout.write(
      `try: curl -H 'Host: demo.localhost' http://127.0.0.1:${base.port}/hello   (WebSocket echo on the same URL; gRPC burrow.demo.Echo on demo-grpc)\n`,
    );
  });
}
