// The run's output: an aligned table for people, a JSON file for tools.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, type } from 'node:os';
import { join } from 'node:path';
import type { Figure } from './context.js';
import { loadGenerator } from './load.js';
import { burrowMode, repoRoot } from './processes.js';
import { median } from './rounds.js';

export function machine(): Record<string, string | number> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: type(),
    node: process.version,
    loadGenerator: loadGenerator(),
    burrow: burrowMode() === 'bundle' ? 'bundle (out/cli/burrow.mjs)' : 'tsx (a source edited after the run rebuilt the bundle)',
  };
}

const format = (value: number | undefined): string =>
  value === undefined || Number.isNaN(value) ? '-' : value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);

const ratio = (numerator: number | undefined, denominator: number | undefined): string =>
  numerator && denominator && !Number.isNaN(numerator) && !Number.isNaN(denominator) ? `${(numerator / denominator).toFixed(2)}x` : '';

/** Burrow / another side: the median of the rounds' own ratios and their range when measured in rounds, else of the two columns. */
function pairedRatio(ratios: number[] | undefined, tunnel: number | undefined, other: number | undefined): string {
  if (ratios === undefined || ratios.length === 0) return ratio(tunnel, other);
  const [least, most] = [Math.min(...ratios), Math.max(...ratios)];
  return `${median(ratios).toFixed(2)}x` + (ratios.length > 1 ? ` (${least.toFixed(2)}-${most.toFixed(2)})` : '');
}

export function table(figures: Figure[]): string {
  // frp's and the Node proxy's columns only when the run measured them.
  const withFrp = figures.some((f) => f.frp !== undefined);
  const withNode = figures.some((f) => f.node !== undefined);
  const withMux = figures.some((f) => f.mux !== undefined);
  const rows = figures.map((f) => [
    f.scenario,
    f.unit,
    format(f.direct),
    format(f.tunnel),
    f.ratio !== false ? ratio(f.tunnel, f.direct) : '',
    ...(withFrp ? [format(f.frp), pairedRatio(f.frpRatios, f.tunnel, f.frp)] : []),
    ...(withNode ? [format(f.node), pairedRatio(f.nodeRatios, f.tunnel, f.node)] : []),
    ...(withMux ? [format(f.mux), pairedRatio(f.muxRatios, f.tunnel, f.mux)] : []),
  ]);
  const header = ['scenario', 'unit', 'direct', 'burrow', 'burrow/direct', ...(withFrp ? ['frp', 'burrow/frp'] : []), ...(withNode ? ['node 2 hops', 'burrow/node'] : []), ...(withMux ? ['node mux', 'burrow/mux'] : [])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  if (figures.some((f) => [f.frpRatios, f.nodeRatios, f.muxRatios].some((ratios) => (ratios?.length ?? 0) > 1))) {
    lines.push('', 'burrow/frp, burrow/node and burrow/mux with a range: the median of the ratios measured round by round (both sides in the same round), and their least and greatest.');
  }
  if (withNode) lines.push('node 2 hops: the smallest Node reverse proxy (bench/minimal-proxy.mjs, node:http alone) twice in a row, as a tunnel is two hops; the floor a Node tunnel stands on.');
  if (withMux) lines.push('node mux: the smallest multiplexed Node tunnel (bench/minimal-multiplexed-proxy.mjs): its two hops share one node:http2 session, as a tunnel\'s requests share its connection.');
  return lines.join('\n');
}

export function writeJson(figures: Figure[], quick: boolean, ranOn: ReturnType<typeof machine>): string {
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), quick, machine: ranOn, figures }, null, 2)}\n`);
  return file;
}
