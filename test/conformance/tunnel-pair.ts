// One local service reached two ways: directly, and through a real tunnel
// (an in-process server and agent on loopback). A conformance case runs the
// same client against both and compares what it saw.
import type { TunnelProtocol } from '../../src/main/tunnel/agent/tunnel-agent.js';
import type { TunnelServerOptions } from '../../src/main/tunnel/server/tunnel-server.js';
import { spawnCli, spawnCliServer, startTunnel, type CliProcess } from '../helpers/common.js';

export interface Endpoint {
  /** Where to connect: always 127.0.0.1. */
  port: number;
  /** The Host or :authority to send. */
  authority: string;
}

export interface TunnelPair {
  direct: Endpoint;
  tunnel: Endpoint;
  /** The edge's local authority's certificate, when it serves `--dev-tls`: a client that trusts it verifies the edge. */
  caPath?: string;
  /** Both, for cases that run alike against each: [label, endpoint]. */
  both: [label: 'direct' | 'tunnel', endpoint: Endpoint][];
  stop(): Promise<void>;
}

const tunnelName = (protocol: TunnelProtocol): string => (protocol === 'grpc' ? 'rpc' : 'app');

function pair(servicePort: number, publicPort: number, protocol: TunnelProtocol, stop: () => Promise<void>, caPath?: string): TunnelPair {
  const direct = { port: servicePort, authority: `127.0.0.1:${servicePort}` };
  const tunnel = { port: publicPort, authority: `${tunnelName(protocol)}.localhost:${publicPort}` };
  return {
    direct,
    tunnel,
    caPath,
    both: [
      ['direct', direct],
      ['tunnel', tunnel],
    ],
    stop,
  };
}

/** Server and agent in this process: quick to start, easy to inspect. */
export async function startTunnelPair(servicePort: number, protocol: TunnelProtocol, serverOptions: Partial<TunnelServerOptions> = {}): Promise<TunnelPair> {
  const fixture = await startTunnel([{ name: tunnelName(protocol), protocol, target: String(servicePort) }], serverOptions);
  return pair(servicePort, fixture.publicPort, protocol, () => fixture.stop());
}

/**
 * `burrow server` and `burrow http|grpc` as processes, as a user runs them:
 * the client then competes with the tunnel for neither event loop nor CPU
 * time slice, so a tunnel that writes faster than the client reads shows.
 * With `--dev-tls` among `serverFlags` the agent trusts the edge's authority.
 */
export async function startProcessTunnelPair(servicePort: number, protocol: TunnelProtocol, serverFlags: string[] = [], agentFlags: string[] = []): Promise<TunnelPair> {
  const processes: CliProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(processes.reverse().map((p) => p.kill()));
  };
  try {
    const { process: server, control, publicPort } = await spawnCliServer(['--domain', 'localhost', '--token', 'conformance', ...serverFlags], (args) => {
      const server = spawnCli(args);
      processes.push(server);
      return server;
    });
    const caPath = serverFlags.includes('--dev-tls') ? /--ca (\S+)\)$/.exec(await server.waitForLine(/^burrow server: dev TLS certificate at /))![1]! : undefined;
    const trust = caPath === undefined ? [] : ['--ca', caPath];
    const agent = spawnCli([protocol, String(servicePort), '--name', tunnelName(protocol), '--server', control, '--token', 'conformance', '--no-inspect', ...trust, ...agentFlags]);
    processes.push(agent);
    await agent.waitForLine(/^tunnel /);
    return pair(servicePort, publicPort, protocol, stop, caPath);
  } catch (error) {
    await stop();
    throw error;
  }
}
