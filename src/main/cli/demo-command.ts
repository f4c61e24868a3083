// `burrow demo`: an embedded server, demo backends and an agent in one process.
import { startDemoBackends } from '../service/demo-backends.js';
import { TunnelServer } from '../tunnel/server/tunnel-server.js';
import { runAgent } from './agent-command.js';
import { stopOnSignals } from './lifecycle.js';

export interface DemoCommandOptions {
  public: string;
}

export async function runDemo(options: DemoCommandOptions): Promise<void> {
  const backends = await startDemoBackends();
  const server = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: options.public, domain: 'localhost' });
  await server.start();
  process.stdout.write(`burrow demo: embedded server at 127.0.0.1:${server.controlPort}, public traffic on ${server.publicUrl('*')}\n`);
  const agent = runAgent([{ name: 'demo', protocol: 'http', target: String(backends.httpPort) }], {
    server: `127.0.0.1:${server.controlPort}`,
  });
  agent.once('tunnel-live', (tunnel) => {
    process.stdout.write(`try: curl ${tunnel.publicUrl}/hello   (or curl -H 'Host: ${tunnel.name}.localhost' http://127.0.0.1:${server.publicPort}/hello)\n`);
  });
  stopOnSignals(async () => {
    agent.stop();
    await server.stop();
    await backends.close();
  });
}
