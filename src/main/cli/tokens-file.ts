// `burrow server --tokens-file tokens.yaml`: named agent tokens and the
// tunnel names each may claim.
//
//   tokens:
//     - { name: alice, token: s3cret-a, tunnels: [alice, "alice-*"] }
//     - { name: ci, token: s3cret-c, tunnels: ["ci-*"], max_body: 1048576 }
//     - { name: admin, token: s3cret-x }        # any name
import type { TokenSpec } from '../tunnel/server/token-auth.js';
import { isValidTunnelName } from '../tunnel/tunnel-names.js';
import { UsageError } from './usage-error.js';
import { readYamlMapping } from './yaml-file.js';

export function readTokensFile(path: string): TokenSpec[] {
  const { tokens } = readYamlMapping(path, 'a "tokens" list');
  if (!Array.isArray(tokens) || tokens.length === 0) throw new UsageError(`${path}: "tokens" must be a non-empty list`);
  const labels = new Set<string>();
  const secrets = new Set<string>();
  return tokens.map((entry, i) => {
    const where = `${path}: tokens[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new UsageError(`${where} must be a mapping with name and token`);
    const { name, token, tunnels, max_body: maxBody } = entry as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') throw new UsageError(`${where}.name must be a non-empty string`);
    // YAML reads 12345678 as a number: say to quote it rather than that it is too short.
    if (typeof token === 'number') throw new UsageError(`${where}.token is read as a number: quote it ("${token}")`);
    if (typeof token !== 'string' || token.length < 8) throw new UsageError(`${where}.token must be a string of at least 8 characters`);
    if (labels.has(name)) throw new UsageError(`${where}: the name "${name}" is used twice`);
    if (secrets.has(token)) throw new UsageError(`${where}: the same token is given twice; names could not tell its holders apart`);
    labels.add(name);
    secrets.add(token);
    if (maxBody !== undefined && (!Number.isInteger(maxBody) || (maxBody as number) <= 0)) throw new UsageError(`${where}.max_body must be a positive number of bytes`);
    const limits = maxBody === undefined ? {} : { maxBodyBytes: maxBody as number };
    if (tunnels === undefined) return { label: name, token, ...limits };
    if (!Array.isArray(tunnels) || tunnels.length === 0 || !tunnels.every((t) => typeof t === 'string')) {
      throw new UsageError(`${where}.tunnels must be a non-empty list of names or patterns like "app-*"`);
    }
    for (const pattern of tunnels as string[]) {
      if (!isValidTunnelName(pattern.replaceAll('*', 'x'))) throw new UsageError(`${where}.tunnels: "${pattern}" is not a tunnel name or pattern`);
    }
    return { label: name, token, names: tunnels as string[], ...limits };
  });
}
