// What a plain edge and a plain agent load: each package costs resident
// memory for the process's whole life, so metrics (prom-client), certificate
// making (@peculiar/x509 and its ASN.1 stack), YAML, the config importers, the
// multipart parser, the .proto compiler and reflection server and the
// request-snippet maker load only when a flag or a command needs them; and
// protobuf's descriptors (the gRPC decoding of the agent's inspector, the
// demo services) only when asked for: neither side loads the other's code.
// The bundled command requires its CommonJS packages rather than importing
// them (scripts/commonjs-required.mjs).
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build-cli.mjs';
import { repoRoot, spawnCliServer, spawnNode, type CliProcess } from '../helpers/common.js';

const counting = ['-r', `${repoRoot}/test/fixtures/print-loaded-packages.cjs`];
const spawnCounting = (args: string[]): CliProcess => spawnNode([...counting, `${repoRoot}/bin/burrow.js`, ...args]);
const onlyWhenAsked = ['prom-client', '@peculiar/x509', '@peculiar/asn1-x509', 'yaml', 'ini', 'smol-toml', 'undici', 'busboy', 'protobufjs', '@grpc/proto-loader', '@grpc/reflection', 'httpsnippet'];

/** protobuf's registry and descriptors, the gRPC decoder's and the demo services'; the tunnel's codec needs its wire format alone. */
const protobufDescriptors = ['@bufbuild/protobuf', '@bufbuild/protobuf/wkt', '@bufbuild/protobuf/codegenv2', '@bufbuild/protobuf/reflect'];

function listed(process: CliProcess, heading: string): string[] {
  const line = process.stderrLines.find((l) => l.startsWith(heading));
  expect(line, process.stderrLines.join('\n')).toBeDefined();
  return line!.slice(heading.length).split(' ').filter((name) => name !== '');
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
      const entryPoints = [...listed(process, 'imported entry points: '), ...listed(process, 'required entry points: ')];
      expect(entryPoints).toContain('@bufbuild/protobuf/wire');
      expect(entryPoints.filter((name) => protobufDescriptors.includes(name))).toEqual([]);
    }
  });

  it('load prom-client with --admin', async () => {
    const server = await spawnCliServer(['--token', 'footprint', '--admin', '127.0.0.1:0'], spawnCounting);
    expect(await loadedPackages(server.process)).toContain('prom-client');
  });
});

describe('the bundled command', () => {
  // Built here, so that the test sees this tree's bundle whether or not `npm run build` ran since the last edit.
  it('requires its CommonJS packages: a plain server and agent import none through the ESM loader', async () => {
    const outdir = `${repoRoot}/out/cli-footprint-${process.pid}`;
    await buildCli(outdir);
    try {
      const spawnBundled = (args: string[]): CliProcess => spawnNode([...counting, `${outdir}/burrow.mjs`, ...args]);
      const server = await spawnCliServer(['--token', 'footprint'], spawnBundled);
      const agent = spawnBundled(['http', '3000', '--name', 'lean', '--server', server.control, '--token', 'footprint', '--no-inspect']);
      await agent.waitForLine(/^tunnel lean: /, 20_000);
      for (const process of [agent, server.process]) {
        await process.kill('SIGTERM');
        expect(listed(process, 'imported entry points: ')).toEqual([]);
        expect(listed(process, 'required entry points: ')).toEqual(expect.arrayContaining(['@grpc/grpc-js', 'ws', 'pino', 'commander', '@bufbuild/protobuf/wire']));
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
