// The run's output: an aligned table for people, a JSON file for tools.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, type } from 'node:os';
import { join } from 'node:path';
import type { Figure } from './context.js';
import { loadGenerator } from './load.js';
import { burrowMode, repoRoot } from './processes.js';

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

export function table(figures: Figure[]): string {
  // frp's columns only when the run had frp.
  const withFrp = figures.some((f) => f.frp !== undefined);
  const rows = figures.map((f) => [
    f.scenario,
    f.unit,
    format(f.direct),
    format(f.tunnel),
    f.ratio !== false ? ratio(f.tunnel, f.direct) : '',
    ...(withFrp ? [format(f.frp), ratio(f.tunnel, f.frp)] : []),
  ]);
  const header = ['scenario', 'unit', 'direct', 'burrow', 'burrow/direct', ...(withFrp ? ['frp', 'burrow/frp'] : [])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function writeJson(figures: Figure[], quick: boolean, ranOn: ReturnType<typeof machine>): string {
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), quick, machine: ranOn, figures }, null, 2)}\n`);
  return file;
}
