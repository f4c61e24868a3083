// Reads /metrics as Prometheus would: through a Prometheus text-format parser
// we did not write, then by family name and labels.
import { spawnSync } from 'node:child_process';
import parsePrometheusTextFormat, { type ParsedFamily, type ParsedSample } from 'parse-prometheus-text-format';

export class Scrape {
  private readonly families: Map<string, ParsedFamily>;

  constructor(private readonly text: string) {
    this.families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
  }

  has(name: string): boolean {
    return this.families.has(name);
  }

  type(name: string): string | undefined {
    return this.families.get(name)?.type;
  }

  /** A counter's or gauge's value for these labels (all given must match); 0 when there is no such sample. */
  value(name: string, labels: Record<string, string> = {}): number {
    const sample = this.sample(name, labels);
    return sample?.value === undefined ? 0 : Number(sample.value);
  }

  /**
   * A histogram's observation count for these labels (all given must match); 0 when there is none.
   * Read from its `_count` lines: the parser folds a labelled histogram's samples into one, labels lost.
   */
  count(name: string, labels: Record<string, string> = {}): number {
    if (this.type(name) !== 'HISTOGRAM') return 0;
    for (const line of this.text.split('\n')) {
      const match = new RegExp(`^${name}_count(?:\\{(.*)\\})? (\\S+)$`).exec(line);
      if (match === null) continue;
      const present = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key, value]));
      if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[2]);
    }
    return 0;
  }

  /** Every label set seen for a family. */
  labelSets(name: string): Record<string, string>[] {
    return (this.families.get(name)?.metrics ?? []).map((sample) => sample.labels ?? {});
  }

  private sample(name: string, labels: Record<string, string>): ParsedSample | undefined {
    return this.families.get(name)?.metrics.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value));
  }
}

export async function scrape(url: string, token?: string): Promise<Scrape> {
  const response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return new Scrape(await response.text());
}

/** What Prometheus's own promtool says of a /metrics text: its lint and parse problems, one per line. */
export function promtoolProblems(text: string): string[] {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  if (result.error !== undefined) throw new Error(`promtool did not run (${result.error.message}); .ci/run installs it with Debian's prometheus package`);
  return `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
}

/** promtool's lint of prom-client's own default gauges (named *_total upstream); not ours to rename. */
export const promClientDefaultsLint = /^burrow_nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;
