// The heap headroom the command keeps: the growing percent it sets governs
// how many full collections Buffer memory starts. Each case runs in a process
// of its own (V8 flags are per process), on the same live heap and the same
// 60 MiB of Buffers: at the ~10% V8 picks after a quiet spell, a full
// collection; at the command's 300%, none.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { heapGrowingPercent } from '../../src/main/cli/heap-headroom.js';

const probe = join(import.meta.dirname, '../fixtures/heap-headroom-probe.ts');

async function fullCollectionsAt(percent: number): Promise<{ applied: boolean; fullCollections: number; heldMiB: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', probe, String(percent)], { timeout: 30_000 });
  return JSON.parse(stdout) as { applied: boolean; fullCollections: number; heldMiB: number };
}

describe('keepHeapHeadroom', () => {
  it('lets 60 MiB of Buffers over a ~30 MB live heap pass without a full collection, where a tight limit needs one', async () => {
    const tight = await fullCollectionsAt(10);
    const kept = await fullCollectionsAt(heapGrowingPercent);
    expect(tight).toMatchObject({ applied: true, heldMiB: 60 });
    expect(tight.fullCollections).toBeGreaterThan(0);
    expect(kept).toEqual({ applied: true, fullCollections: 0, live: 300_000, heldMiB: 60 });
  });
});
