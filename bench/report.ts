// The run's output: an aligned table for people, a JSON file for tools.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { comparedSides, type ComparedSide, type Figure } from './context.js';
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

/** Each compared side's column heading and, where it needs one, the line below the table that says what it is. */
const sideColumns: Record<ComparedSide, { heading: string; footnote?: string }> = {
  frp: { heading: 'frp' },
  node: {
    heading: 'node 2 hops',
    footnote: 'node 2 hops: the smallest Node reverse proxy (bench/minimal-proxy.mjs, node:http alone) twice in a row, as a tunnel is two hops; the floor a Node tunnel stands on.',
  },
  mux: {
    heading: 'node mux',
    footnote: "node mux: the smallest multiplexed Node tunnel (bench/minimal-multiplexed-proxy.mjs): its two hops share one node:http2 session, as a tunnel's requests share its connection.",
  },
};

export function table(figures: Figure[]): string {
  // A compared side's columns only when the run measured it.
  const measured = comparedSides.filter((side) => figures.some((f) => f[side] !== undefined));
  const rows = figures.map((f) => [
    f.scenario,
    f.unit,
    format(f.direct),
    format(f.tunnel),
    f.ratio !== false ? ratio(f.tunnel, f.direct) : '',
    ...measured.flatMap((side) => [format(f[side]), pairedRatio(f[`${side}Ratios`], f.tunnel, f[side])]),
  ]);
  const header = ['scenario', 'unit', 'direct', 'burrow', 'burrow/direct', ...measured.flatMap((side) => [sideColumns[side].heading, `burrow/${side}`])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  if (figures.some((f) => comparedSides.some((side) => (f[`${side}Ratios`]?.length ?? 0) > 1))) {
    lines.push('', 'burrow/frp, burrow/node and burrow/mux with a range: the median of the ratios measured round by round (both sides in the same round), and their least and greatest.');
  }
  for (const side of measured) if (sideColumns[side].footnote !== undefined) lines.push(sideColumns[side].footnote!);
  return lines.join('\n');
}

export function writeJson(figures: Figure[], quick: boolean, ranOn: ReturnType<typeof machine>): string {
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), quick, machine: ranOn, figures }, null, 2)}\n`);
  return file;
}
