// IdMap: a table by id, and why the engine keeps its requests in one rather
// than in a Map (see src/main/tunnel/id-map.ts). The young-generation
// collector's promoted bytes, as V8 reports them, for the same churn
// through each, each in a process of its own.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdMap } from '../../src/main/tunnel/id-map.js';
import { promotedByYoungCollections } from '../helpers/young-promotion.js';

const probe = join(import.meta.dirname, '../fixtures/id-map-probe.ts');

async function promotedBytes(table: 'map' | 'id-map'): Promise<{ promoted: number; open: string }> {
  const { promotedBytes, stdout } = await promotedByYoungCollections(probe, [table], ['--expose-gc']);
  return { promoted: promotedBytes, open: /open \d+/.exec(stdout)?.[0] ?? '' };
}

describe('IdMap', () => {
  it('sets, gets, deletes and counts entries by id', () => {
    const map = new IdMap<number>();
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3);
    expect(map.size).toBe(2);
    expect(map.get('a')).toBe(3);
    expect(map.has('b')).toBe(true);
    expect(map.get('__proto__')).toBeUndefined();
    expect(map.delete('b')).toBe(true);
    expect(map.delete('b')).toBe(false);
    expect(map.has('b')).toBe(false);
    expect(map.size).toBe(1);
    map.set('__proto__', 4);
    expect(map.values().sort()).toEqual([3, 4]);
    map.clear();
    expect(map.size).toBe(0);
    expect(map.get('a')).toBeUndefined();
  });

  it('lets entries that come and go die young, where a Map after a full collection promotes them all', async () => {
    const map = await promotedBytes('map');
    const idMap = await promotedBytes('id-map');
    expect(map.open).toBe('open 50');
    expect(idMap.open).toBe('open 50');
    // ~200 MB of entries pass through; a Map promotes most of them.
    expect(map.promoted).toBeGreaterThan(50 * 1024 * 1024);
    expect(idMap.promoted).toBeLessThan(map.promoted / 20);
  });
});
