// What a plain edge and a plain agent load: each package costs resident
// memory for the process's whole life, so metrics (prom-client), certificate
// making (@peculiar/x509 and its ASN.1 stack), YAML, the config importers, the
// multipart parser, the .proto compiler and reflection server and the
// request-snippet maker load only when a flag or a command needs them; and
// protobuf's descriptors (the gRPC decoding of the agent's inspector, the
// demo services) only when asked for: neither side loads the other's code.
import { describe, expect, it } from 'vitest';
import { repoRoot, spawnCliServer, spawnNode, type CliProcess } from '../helpers/common.js';

const preload = ['-r', `${repoRoot}/test/fixtures/print-loaded-packages.cjs`, `${repoRoot}/bin/burrow.js`];
const spawnCounting = (args: string[]): CliProcess => spawnNode([...preload, ...args]);
const onlyWhenAsked = ['prom-client', '@peculiar/x509', '@peculiar/asn1-x509', 'yaml', 'ini', 'smol-toml', 'undici', 'busboy', 'protobufjs', '@grpc/proto-loader', '@grpc/reflection', 'httpsnippet'];

/** protobuf's registry and descriptors, the gRPC decoder's and the demo services'; the tunnel's codec needs its wire format alone. */
const protobufDescriptors = ['@bufbuild/protobuf', '@bufbuild/protobuf/wkt', '@bufbuild/protobuf/codegenv2', '@bufbuild/protobuf/reflect'];

function listed(process: CliProcess, heading: string): string[] {
  const line = process.stderrLines.find((l) => l.startsWith(heading));
  expect(line, process.stderrLines.join('\n')).toBeDefined();
  return line!.slice(heading.length).split(' ');
}

async function loadedPackages(process: CliProcess): Promise<string[]> {
  await process.kill('SIGTERM');
  return listed(process, 'loaded packages: ');
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
    for (const process of [server.process, agent]) {
      const entryPoints = listed(process, 'imported entry points: ');
      expect(entryPoints).toContain('@bufbuild/protobuf/wire');
      expect(entryPoints.filter((name) => protobufDescriptors.includes(name))).toEqual([]);
    }
  });

  it('load prom-client with --admin', async () => {
    const server = await spawnCliServer(['--token', 'footprint', '--admin', '127.0.0.1:0'], spawnCounting);
    expect(await loadedPackages(server.process)).toContain('prom-client');
  });
});
