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
    burrow: burrowMode() === 'bundle' ? 'bundle (out/cli/burrow.mjs)' : 'tsx (bundle missing or older than src; `npm run build` first for bundle figures)',
  };
}

const format = (value: number | undefined): string =>
  value === undefined || Number.isNaN(value) ? '-' : value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);

const ratio = (numerator: number | undefined, denominator: number | undefined): string =>
  numerator && denominator && !Number.isNaN(numerator) && !Number.isNaN(denominator) ? `${(numerator / denominator).toFixed(2)}x` : '';

/** Burrow / frp: the median of the rounds' own ratios and their range when measured in rounds, else of the two columns. */
function frpRatio(f: Figure): string {
  if (f.frpRatios === undefined || f.frpRatios.length === 0) return ratio(f.tunnel, f.frp);
  const [least, most] = [Math.min(...f.frpRatios), Math.max(...f.frpRatios)];
  return `${median(f.frpRatios).toFixed(2)}x` + (f.frpRatios.length > 1 ? ` (${least.toFixed(2)}-${most.toFixed(2)})` : '');
}

export function table(figures: Figure[]): string {
  // frp's columns only when the run had frp.
  const withFrp = figures.some((f) => f.frp !== undefined);
  const rows = figures.map((f) => [
    f.scenario,
    f.unit,
    format(f.direct),
    format(f.tunnel),
    f.ratio !== false ? ratio(f.tunnel, f.direct) : '',
    ...(withFrp ? [format(f.frp), frpRatio(f)] : []),
  ]);
  const header = ['scenario', 'unit', 'direct', 'burrow', 'burrow/direct', ...(withFrp ? ['frp', 'burrow/frp'] : [])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  if (figures.some((f) => (f.frpRatios?.length ?? 0) > 1)) lines.push('', 'burrow/frp with a range: the median of the ratios measured round by round (Burrow and frp in the same round), and their least and greatest.');
  return lines.join('\n');
}

export function writeJson(figures: Figure[], quick: boolean, ranOn: ReturnType<typeof machine>): string {
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), quick, machine: ranOn, figures }, null, 2)}\n`);
  return file;
}
