// `npm run bench -- --quick` end to end: every scenario runs through a real
// server and agent, the table is printed and the JSON written. It checks that
// figures exist and make sense, never how fast they are.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnNode, type CliProcess } from '../helpers/common.js';

const running: CliProcess[] = [];
const written: string[] = [];

afterAll(async () => {
  for (const bench of running) await bench.kill();
  for (const path of written) rmSync(path, { force: true });
});

/** Runs the bench to its end; returns its output and the JSON it wrote. */
async function runBench(args: string[]): Promise<{ output: string; report: { quick: boolean; machine: Record<string, unknown>; figures: Figure[] } }> {
  const bench = spawnNode(['--import', 'tsx', 'bench/run.ts', ...args]);
  running.push(bench);
  const code = await bench.exited;
  const output = bench.stdoutLines.join('\n');
  expect(code, `${output}\n${bench.stderrLines.join('\n')}`).toBe(0);
  // A scenario that throws is reported and skipped; none may.
  expect(output).not.toMatch(/ failed: /);
  // Without frp; the minimal Node proxy's columns whenever small GETs or 1 MiB bodies ran, the multiplexed one's when the proxy scenario did.
  expect(output).toMatch(/^scenario\s+unit\s+direct\s+burrow\s+burrow\/direct\s+node 2 hops\s+burrow\/node(\s+node mux\s+burrow\/mux)?$/m);
  const jsonPath = /^wrote (.+\.json)$/m.exec(output)?.[1];
  written.push(jsonPath!);
  return { output, report: JSON.parse(readFileSync(jsonPath!, 'utf8')) };
}

interface Figure {
  scenario: string;
  unit: string;
  direct?: number;
  tunnel?: number;
  frp?: number;
  node?: number;
  nodeRatios?: number[];
  mux?: number;
  muxRatios?: number[];
}

describe('npm run bench -- --quick', () => {
  it('runs every scenario and writes a table and a JSON file of figures', async () => {
    const { output, report } = await runBench(['--quick']);
    expect(report.quick).toBe(true);
    expect(report.machine).toMatchObject({ cores: expect.any(Number), node: process.version, loadGenerator: expect.stringMatching(/^(wrk|autocannon) /) });
    const scenarios = report.figures.map((f) => f.scenario);
    for (const expected of [
      /^RSS at rest/,
      /^small GET, 50 connections$/,
      /^small GET p99$/,
      /minimal Node proxy/,
      /^1 MiB responses/,
      /^1 MiB uploads/,
      /bare grpc-js stream/,
      /^64 MiB streamed download$/,
      /^64 MiB streamed upload$/,
      /^peak RSS streaming/,
      /^RSS growth streaming/,
      /beside a slow reader/,
      /^WebSocket connections held/,
      /^WebSocket echo/,
      /^gRPC unary/,
      /^gRPC server stream/,
      /^gRPC unary with h2load/,
      /^RSS peak during the run, server side$/,
      /^RSS after the run, \d+ s quiet, agent side$/,
      /^CPU per 1,000 1 MiB responses, server side$/,
      /^RSS at rest, settled \(20 s after the tunnel is up\), agent side$/,
      /^RSS at rest, Node with only the libraries Burrow loads at start: the floor$/,
      /^CPU per 1,000 1 MiB responses via minimal Node proxy, public \/ service hop$/,
      /^RSS of minimal Node proxy after its load, \d+ s quiet/,
      /^CPU per 1,000 MiB, bare grpc-js stream client→server: server \/ client process$/,
    ]) {
      expect(scenarios.some((s) => expected.test(s)), `a figure for ${expected}`).toBe(true);
    }
    // Rates and latencies are positive in both columns; RSS growth may be ~0.
    // Burrow's own memory and CPU rows and the memory floor have no direct column.
    for (const figure of report.figures.filter((f) => !/growth/.test(f.scenario))) {
      if (!/^(RSS .*(side|floor)|CPU per)/.test(figure.scenario)) expect(figure.direct, figure.scenario).toBeGreaterThan(0);
      expect(figure.tunnel, figure.scenario).toBeGreaterThan(0);
    }
    expect(report.figures.find((f) => /^WebSocket connections held/.test(f.scenario))).toMatchObject({ direct: 200, tunnel: 200 });
    // The minimal Node proxy's two hops ran in the same rounds: its figures, and Burrow's paired with them.
    for (const scenario of ['small GET p99', '1 MiB uploads p99', 'CPU per 1,000 1 MiB responses, agent side', '1 MiB uploads, one connection, p50', '1 MiB responses, one connection, p99']) {
      const figure = report.figures.find((f) => f.scenario === scenario);
      expect(figure?.node, scenario).toBeGreaterThan(0);
      expect(figure?.nodeRatios, scenario).toHaveLength(1);
    }
    // The smallest multiplexed Node tunnel in rounds with Burrow, in the proxy scenario.
    expect(output).toMatch(/^scenario\s+.*\s+node mux\s+burrow\/mux$/m);
    for (const scenario of ['small GET p99, against the multiplexed Node tunnel', '1 MiB uploads, 8 connections, against the multiplexed Node tunnel', '1 MiB responses p99, against the multiplexed Node tunnel']) {
      const figure = report.figures.find((f) => f.scenario === scenario);
      expect(figure?.mux, scenario).toBeGreaterThan(0);
      expect(figure?.muxRatios, scenario).toHaveLength(1);
    }
    expect(report.figures.find((f) => f.scenario === 'CPU per 1,000 1 MiB uploads via the multiplexed Node tunnel, public / service hop')).toMatchObject({ direct: expect.any(Number), tunnel: expect.any(Number) });
  }, 300_000);

  it('measures with autocannon when asked (as where wrk is missing), uploads included; says why frp is left out', async () => {
    const { output, report } = await runBench(['--quick', '--load', 'autocannon', '--only', 'small,bulk', '--frp', 'no-such-dir']);
    expect(output).toMatch(/frp rows skipped: no frps or frpc in \S+no-such-dir/);
    expect(report.figures.some((f) => f.frp !== undefined)).toBe(false);
    expect(report.machine.loadGenerator).toMatch(/^autocannon /);
    const small = report.figures.find((f) => f.scenario === 'small GET, 50 connections') as Figure & { extra?: { tool?: string; errors?: number } };
    expect(small.extra).toMatchObject({ tool: 'autocannon', errors: 0 });
    // autocannon counts whole milliseconds, so a direct p50 may read 0.
    for (const figure of report.figures) {
      const least = figure.unit === 'ms' ? 0 : Number.MIN_VALUE;
      if (!/^(RSS .*(side|floor)|CPU per)/.test(figure.scenario)) expect(figure.direct, figure.scenario).toBeGreaterThanOrEqual(least);
      expect(figure.tunnel, figure.scenario).toBeGreaterThanOrEqual(least);
    }
  }, 120_000);
});
