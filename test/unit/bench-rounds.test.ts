// The bench's summing up of rounds: medians per side, Burrow / frp paired
// round by round, and the table line that shows them.
import { describe, expect, it } from 'vitest';
import type { BenchContext, Target } from '../../bench/context.js';
import { table } from '../../bench/report.js';
import { alternating, median, medianFigure } from '../../bench/rounds.js';

const target = (label: Target['label']): Target => ({ label, port: 1, host: label, grpcAddress: '' });
const context = (quick: boolean, frp: boolean): BenchContext => ({
  direct: target('direct'),
  tunnel: target('tunnel'),
  ...(frp && { frp: target('frp') }),
  pids: { server: 0, agent: 0 },
  quick,
  say: () => {},
});

describe('bench rounds', () => {
  it('measure every side each round in a rotated order, warmed first; one round with --quick', async () => {
    const order: string[] = [];
    const results = await alternating(
      context(false, true),
      async (side) => (order.push(side.label), order.length),
      async (side) => order.push(`warm ${side.label}`),
      3,
    );
    expect(order).toEqual(['warm direct', 'warm tunnel', 'warm frp', 'direct', 'tunnel', 'frp', 'tunnel', 'frp', 'direct', 'frp', 'direct', 'tunnel']);
    expect(Object.fromEntries(results)).toEqual({ direct: [4, 9, 11], tunnel: [5, 7, 12], frp: [6, 8, 10] });
    const quick = await alternating(context(true, false), async (side) => side.label, undefined, 5);
    expect(Object.fromEntries(quick)).toEqual({ direct: ['direct'], tunnel: ['tunnel'] });
  });

  it('take medians per side and pair Burrow with frp round by round', () => {
    expect([median([3, 1, 2]), median([4, 1, 3, 2])]).toEqual([2, 2.5]);
    // The machine slows by half in round 2: the medians' ratio is 1.0, Burrow was faster in every round.
    const results = new Map<Target['label'], number[]>([
      ['tunnel', [110, 55, 120]],
      ['frp', [100, 50, 100]],
    ]);
    const figure = medianFigure('x', 'MB/s', results, (value) => value);
    expect(figure).toMatchObject({ tunnel: 110, frp: 100 });
    expect(figure.frpRatios).toEqual([1.1, 1.1, 1.2]);
    expect(table([figure])).toMatch(/^x\s+MB\/s\s+-\s+110\s+100\s+1\.10x \(1\.10-1\.20\)$/m);
  });

  it('leave the ratio to the two medians when frp did not run every round', () => {
    const figure = medianFigure('y', 'ms', new Map([['tunnel', [2, 4]], ['frp', [5]]]), (value: number) => value);
    expect(figure.frpRatios).toBeUndefined();
    expect(table([figure])).toMatch(/^y\s+ms\s+-\s+3\.00\s+5\.00\s+0\.60x$/m);
  });
});
