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
  /** Keys the file has that Burrow does not read, said so (a typo such as `protcol: grpc` would give an http tunnel unseen). */
  ignored: string[];
}

const fileKeys = ['server', 'token', 'tunnels'];
const tunnelKeys = ['name', 'protocol', 'target'];

function unknownKeys(mapping: object, known: string[], where: string): string[] {
  return Object.keys(mapping)
    .filter((key) => !known.includes(key))
    .map((key) => `${where}: "${key}" is not a setting Burrow reads (${known.join(', ')}); ignored`);
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
  const ignored = unknownKeys(doc, fileKeys, path);
  const names = new Set<string>();
  const specs = tunnels.map((entry, i) => {
    const where = `${path}: tunnels[${i}]`;
    const spec = tunnelSpec(entry, where);
    ignored.push(...unknownKeys(entry as object, tunnelKeys, where));
    // The second would be refused by the server as taken, or register the same name twice.
    if (spec.name !== undefined && names.has(spec.name)) throw new UsageError(`${where}: the name "${spec.name}" is used twice`);
    if (spec.name !== undefined) names.add(spec.name);
    return spec;
  });
  return { server, token, tunnels: specs, ignored };
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
