// The idle reclaimer's full collection is V8's incremental one: it frees and
// compacts what the forced one does, and keeps the optimized code of a
// request path whose objects are all gone, which the forced one throws away.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { idleCollector } from '../../src/main/service/idle-memory.js';
import { incrementalFullCollection, type ExposedGc } from '../../src/main/service/incremental-collection.js';

const probe = join(import.meta.dirname, '../fixtures/optimized-code-probe.ts');

async function optimizedAcross(mode: 'atomic' | 'idle'): Promise<{ before: boolean; after: boolean }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', probe, mode], { timeout: 30_000 });
  return JSON.parse(stdout) as { before: boolean; after: boolean };
}

function exposedGc(): ExposedGc {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as ExposedGc;
}

function oldSpace(): { size: number; used: number } {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!;
  return { size: space.space_size, used: space.space_used_size };
}

/** ~50 MB of objects in the old generation (two young collections promote them), a third of them kept, spread over every page. */
function burstWithSurvivors(gc: ExposedGc): { i: number; pair: number[] }[] {
  let burst: { i: number; pair: number[] }[] = Array.from({ length: 400_000 }, (_, i) => ({ i, pair: [i, i + 1] }));
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  const survivors = burst.filter((_, i) => i % 3 === 0);
  burst = [];
  expect(oldSpace().used).toBeGreaterThan(32 * 1024 * 1024);
  return survivors;
}

it('keeps the optimized code built on the shape of objects none of which is left, which a forced collection throws away', async () => {
  // The probe tells: a forced full collection deoptimizes its function.
  expect(await optimizedAcross('atomic')).toMatchObject({ before: true, after: false });
  expect(await optimizedAcross('idle')).toMatchObject({ before: true, after: true });
});

it('finishes a full collection incrementally and frees what a burst left', async () => {
  const gc = exposedGc();
  const survivors = burstWithSurvivors(gc);
  const before = oldSpace().used;
  expect(await incrementalFullCollection(gc)).toBe(true);
  // Two thirds of the burst were garbage.
  expect(before - oldSpace().used).toBeGreaterThan(16 * 1024 * 1024);
  expect(survivors[survivors.length - 1]!.pair[0]).toBe(399_999);
});

it('compacts in the idle full collection: the pages a burst left a few survivors on are given back', async () => {
  const survivors = burstWithSurvivors(exposedGc());
  let work: unknown;
  idleCollector((next) => {
    work ??= next();
  })!('full');
  await work;
  const after = oldSpace();
  // A collection that does not compact keeps nearly every page: ~3x the bytes still used.
  expect(after.size - after.used).toBeLessThan(after.used / 2);
  expect(survivors[survivors.length - 1]!.pair[0]).toBe(399_999);
});
