// One local service reached two ways: directly, and through a real tunnel
// (an in-process server and agent on loopback). A conformance case runs the
// same client against both and compares what it saw.
import type { ServerLimits } from '../../src/main/tunnel/config.js';
import type { TunnelProtocol } from '../../src/main/tunnel/agent/tunnel-agent.js';
import { startTunnel, type TunnelFixture } from '../helpers/common.js';

export interface Endpoint {
  /** Where to connect: always 127.0.0.1. */
  port: number;
  /** The Host or :authority to send. */
  authority: string;
}

export interface TunnelPair {
  direct: Endpoint;
  tunnel: Endpoint;
  fixture: TunnelFixture;
  /** Both, for cases that run alike against each: [label, endpoint]. */
  both: [label: 'direct' | 'tunnel', endpoint: Endpoint][];
  stop(): Promise<void>;
}

export async function startTunnelPair(servicePort: number, protocol: TunnelProtocol, limits: Partial<ServerLimits> = {}): Promise<TunnelPair> {
  const name = protocol === 'grpc' ? 'rpc' : 'app';
  const fixture = await startTunnel([{ name, protocol, target: String(servicePort) }], { limits });
  const direct = { port: servicePort, authority: `127.0.0.1:${servicePort}` };
  const tunnel = { port: fixture.publicPort, authority: `${name}.localhost:${fixture.publicPort}` };
  return {
    direct,
    tunnel,
    fixture,
    both: [
      ['direct', direct],
      ['tunnel', tunnel],
    ],
    stop: () => fixture.stop(),
  };
}
