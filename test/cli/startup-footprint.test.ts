// What a plain edge and a plain agent load: each package costs resident
// memory for the process's whole life, so metrics (prom-client), certificate
// making (@peculiar/x509 and its ASN.1 stack), YAML, the config importers, the
// multipart parser, the .proto compiler and reflection server and the
// request-snippet maker load only when a flag or a command needs them.
import { describe, expect, it } from 'vitest';
import { repoRoot, spawnCliServer, spawnNode, type CliProcess } from '../helpers/common.js';

const preload = ['-r', `${repoRoot}/test/fixtures/print-loaded-packages.cjs`, `${repoRoot}/bin/burrow.js`];
const spawnCounting = (args: string[]): CliProcess => spawnNode([...preload, ...args]);
const onlyWhenAsked = ['prom-client', '@peculiar/x509', '@peculiar/asn1-x509', 'yaml', 'ini', 'smol-toml', 'undici', 'busboy', 'protobufjs', '@grpc/proto-loader', '@grpc/reflection', 'httpsnippet'];

async function loadedPackages(process: CliProcess): Promise<string[]> {
  await process.kill('SIGTERM');
  const line = process.stderrLines.find((l) => l.startsWith('loaded packages: '));
  expect(line, process.stderrLines.join('\n')).toBeDefined();
  return line!.slice('loaded packages: '.length).split(' ');
}

describe('a plain burrow server and agent', () => {
  it('load the tunnel and nothing a flag did not ask for', async () => {
    const server = await spawnCliServer(['--token', 'footprint'], spawnCounting);
    const agent = spawnCounting(['http', '3000', '--name', 'lean', '--server', server.control, '--token', 'footprint', '--no-inspect']);
    await agent.waitForLine(/^tunnel lean: /, 20_000);
    const agentPackages = await loadedPackages(agent);
    const serverPackages = await loadedPackages(server.process);
    for (const packages of [serverPackages, agentPackages]) {
      expect(packages).toContain('@grpc/grpc-js');
      expect(packages.filter((name) => onlyWhenAsked.includes(name))).toEqual([]);
    }
  });

  it('load prom-client with --admin', async () => {
    const server = await spawnCliServer(['--token', 'footprint', '--admin', '127.0.0.1:0'], spawnCounting);
    expect(await loadedPackages(server.process)).toContain('prom-client');
  });
});
