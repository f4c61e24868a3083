// `burrow start --config burrow.yaml`: several tunnels from one file.
//
//   server: 127.0.0.1:7835
//   token: secret          # or BURROW_TOKEN
//   tunnels:
//     - { name: web, protocol: http, target: 3000 }
//     - { name: api, protocol: grpc, target: 127.0.0.1:50051 }
import type { TunnelSpec } from '../tunnel/agent/tunnel-agent.js';
import { addressList } from '../tunnel/host-port.js';
import { checkTunnelFields } from '../tunnel/tunnel-fields.js';
import { hostPort, UsageError } from './usage-error.js';
import { readYamlMapping } from './yaml-file.js';

export interface AgentConfigFile {
  server?: string;
  token?: string;
  tunnels: TunnelSpec[];
}

export function readAgentConfig(path: string): AgentConfigFile {
  const doc = readYamlMapping(path, 'a "tunnels" list');
  const { server, token, tunnels } = doc;
  if (server !== undefined) {
    // Checked as --server is: a bad address would otherwise only show up as endless reconnects.
    if (typeof server !== 'string') throw new UsageError(`${path}: "server" must be host:port`);
    // Several edges of one cluster: separated by commas.
    for (const address of addressList(server)) hostPort(`${path}: "server"`)(address);
    if (addressList(server).length === 0) throw new UsageError(`${path}: "server" must be host:port`);
  }
  if (token !== undefined && typeof token !== 'string') throw new UsageError(`${path}: "token" must be a string`);
  if (!Array.isArray(tunnels) || tunnels.length === 0) throw new UsageError(`${path}: "tunnels" must be a non-empty list`);
  return { server, token, tunnels: tunnels.map((entry, i) => tunnelSpec(entry, `${path}: tunnels[${i}]`)) };
}

function tunnelSpec(entry: unknown, where: string): TunnelSpec {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new UsageError(`${where} must be a mapping`);
  try {
    const { name, protocol, target } = checkTunnelFields(entry);
    return { name: name === '' ? undefined : name, protocol, target };
  } catch (error) {
    throw new UsageError(`${where}.${(error as Error).message}`);
  }
}
