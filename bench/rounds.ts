// Rounds of one measurement on every side (direct, Burrow, frp, the minimal
// Node proxy), in an order rotated each round, summed up as medians. Against
// frp and the Node proxy the ratio is paired: Burrow over the other side
// within each round, then the median of those. This VM's speed drifts by up
// to 2x over minutes, and two sides measured in the same round share the
// drift that separate medians would not cancel.
import { comparedSides, type BenchContext, type Figure, type Target } from './context.js';

/** Direct, Burrow, frp (with --frp), the minimal Node proxy and the multiplexed one (when started). */
function sides(ctx: BenchContext): Target[] {
  return [ctx.direct, ctx.tunnel, ctx.frp, ctx.node, ctx.mux].filter((target) => target !== undefined);
}

/**
 * Each side's results over `rounds` rounds (one with --quick). With `warmUp`
 * (unmeasured), every side is warmed before each of its rounds, at length
 * before its first (`first`), briefly before the others: the command gives
 * memory back after 30 s of quiet with a full collection, which throws away
 * optimized code, and the rotation can leave one side quiet longer than that
 * between two of its rounds (six measurements apart), so that round would
 * measure code V8 is compiling again (small GETs after 40 s of quiet: p99
 * 29-31 ms in the next 10 s, 16-19 ms after 2 s of warm-up). What that quiet
 * costs is a figure of its own (afterQuiet). The order rotates each round, so
 * no side always runs first on a warm or cold machine.
 */
export async function alternating<T>(
  ctx: BenchContext,
  measure: (target: Target) => Promise<T>,
  warmUp?: (target: Target, first: boolean) => Promise<unknown>,
  rounds = 3,
): Promise<Map<Target['label'], T[]>> {
  const count = ctx.quick ? 1 : rounds;
  const results = new Map<Target['label'], T[]>();
  const targets = sides(ctx);
  for (let round = 0; round < count; round++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + round) % targets.length]!;
      if (warmUp !== undefined) await warmUp(target, round === 0);
      results.set(target.label, [...(results.get(target.label) ?? []), await measure(target)]);
    }
  }
  return results;
}

/**
 * One measurement per side after every side has been quiet for `quietMs`,
 * Burrow first (so its quiet is exactly that): what the first burst after a
 * pause costs once the command has given its memory back. `wake` goes first,
 * unmeasured, straight to the backend: the backend every side shares was
 * quiet too, and its first burst (with the load generator's and the
 * machine's) was charged to whichever side came first (Burrow after 40 s:
 * p99 19.2-23.6 ms measured first, 18.1-18.4 right after a direct burst,
 * three alternating rounds each).
 */
export async function afterQuiet<T>(ctx: BenchContext, quietMs: number, measure: (target: Target) => Promise<T>, wake: (backend: Target) => Promise<unknown>): Promise<Map<Target['label'], T[]>> {
  const results = new Map<Target['label'], T[]>();
  await new Promise((resolve) => setTimeout(resolve, quietMs));
  await wake(ctx.direct);
  const targets = sides(ctx).sort((a, b) => Number(b.label === 'tunnel') - Number(a.label === 'tunnel'));
  for (const target of targets) results.set(target.label, [await measure(target)]);
  return results;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One figure: each side's median over its rounds, and Burrow / frp and Burrow / each Node proxy round by round when both ran every round. */
export function medianFigure<T>(scenario: string, unit: string, results: Map<Target['label'], T[]>, pick: (result: T) => number, extra?: Figure['extra']): Figure {
  const figure: Figure = { scenario, unit, ...(extra && { extra }) };
  for (const [label, list] of results) figure[label] = median(list.map(pick));
  const tunnel = results.get('tunnel')?.map(pick);
  for (const label of comparedSides) {
    const other = results.get(label)?.map(pick);
    if (tunnel === undefined || other === undefined || tunnel.length !== other.length || !other.every((value) => value > 0)) continue;
    figure[`${label}Ratios`] = tunnel.map((value, round) => value / other[round]!);
  }
  return figure;
}
