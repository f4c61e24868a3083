// The bench's summing up of rounds: medians per side, Burrow / frp and
// Burrow / the minimal Node proxy paired round by round, and the table lines
// that show them.
import { describe, expect, it } from 'vitest';
import type { BenchContext, Target } from '../../bench/context.js';
import { table } from '../../bench/report.js';
import { afterQuiet, alternating, median, medianFigure } from '../../bench/rounds.js';

const target = (label: Target['label']): Target => ({ label, port: 1, host: label, grpcAddress: '' });
const context = (quick: boolean, frp: boolean, node = false): BenchContext => ({
  direct: target('direct'),
  tunnel: target('tunnel'),
  ...(frp && { frp: target('frp') }),
  ...(node && { node: target('node') }),
  pids: { server: 0, agent: 0 },
  quick,
  say: () => {},
});

describe('bench rounds', () => {
  it('measure every side each round in a rotated order, each warmed right before (at length the first time); one round with --quick', async () => {
    const order: string[] = [];
    const results = await alternating(
      context(false, true),
      async (side) => (order.push(side.label), order.length),
      async (side, first) => order.push(`warm ${side.label}${first ? ' first' : ''}`),
      3,
    );
    expect(order).toEqual([
      ...['warm direct first', 'direct', 'warm tunnel first', 'tunnel', 'warm frp first', 'frp'],
      ...['warm tunnel', 'tunnel', 'warm frp', 'frp', 'warm direct', 'direct'],
      ...['warm frp', 'frp', 'warm direct', 'direct', 'warm tunnel', 'tunnel'],
    ]);
    expect(Object.fromEntries(results)).toEqual({ direct: [2, 12, 16], tunnel: [4, 8, 18], frp: [6, 10, 14] });
    const quick = await alternating(context(true, false), async (side) => side.label, undefined, 5);
    expect(Object.fromEntries(quick)).toEqual({ direct: ['direct'], tunnel: ['tunnel'] });
  });

  it('measure each side once after the quiet, Burrow first, once the shared backend has been woken', async () => {
    const order: string[] = [];
    const results = await afterQuiet(
      context(false, true, true),
      0,
      async (side) => (order.push(side.label), order.length),
      async (backend) => order.push(`wake ${backend.label}`),
    );
    expect(order).toEqual(['wake direct', 'tunnel', 'direct', 'frp', 'node']);
    expect(Object.fromEntries(results)).toEqual({ tunnel: [2], direct: [3], frp: [4], node: [5] });
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

  it('rotate the Node proxy in with the others and pair Burrow with it too', async () => {
    const order: string[] = [];
    await alternating(context(false, true, true), async (side) => order.push(side.label), undefined, 2);
    expect(order).toEqual(['direct', 'tunnel', 'frp', 'node', 'tunnel', 'frp', 'node', 'direct']);
    const results = new Map<Target['label'], number[]>([
      ['tunnel', [40, 60, 44]],
      ['frp', [50, 50, 40]],
      ['node', [40, 50, 55]],
    ]);
    const figure = medianFigure('p99', 'ms', results, (value) => value);
    expect(figure).toMatchObject({ tunnel: 44, frp: 50, node: 50 });
    expect(figure.frpRatios).toEqual([0.8, 1.2, 1.1]);
    expect(figure.nodeRatios).toEqual([1, 1.2, 0.8]);
    const lines = table([figure, { scenario: 'rest', unit: 'MiB', tunnel: 60, frp: 20, ratio: false }]).split('\n');
    expect(lines[0]).toMatch(/burrow\/frp\s+node 2 hops\s+burrow\/node$/);
    expect(lines[2]).toMatch(/^p99\s+ms\s+-\s+44\.00\s+50\.00\s+1\.10x \(0\.80-1\.20\)\s+50\.00\s+1\.00x \(0\.80-1\.20\)$/);
    // A row the Node proxy has no figure for leaves its columns blank.
    expect(lines[3]).toMatch(/^rest\s+MiB\s+-\s+60\.00\s+20\.00\s+3\.00x\s+-\s*$/);
  });

  it('pair Burrow with the multiplexed Node tunnel in its own rounds, in columns of its own', async () => {
    const order: string[] = [];
    await alternating({ ...context(false, false), mux: target('mux') }, async (side) => order.push(side.label), undefined, 2);
    expect(order).toEqual(['direct', 'tunnel', 'mux', 'tunnel', 'mux', 'direct']);
    const figure = medianFigure('uploads', 'MB/s', new Map<Target['label'], number[]>([['tunnel', [300, 420]], ['mux', [150, 200]]]), (value) => value);
    expect(figure).toMatchObject({ tunnel: 360, mux: 175 });
    expect(figure.muxRatios).toEqual([2, 2.1]);
    const lines = table([figure]).split('\n');
    expect(lines[0]).toMatch(/burrow\/direct\s+node mux\s+burrow\/mux$/);
    expect(lines[2]).toMatch(/^uploads\s+MB\/s\s+-\s+360\s+175\s+2\.05x \(2\.00-2\.10\)$/);
    expect(lines.at(-1)).toMatch(/^node mux: the smallest multiplexed Node tunnel/);
  });
});
