// Runs a probe script in a Node process of its own under --trace-gc-nvp and
// sums the bytes V8 reports each young collection promoted to the old
// generation: a count, not a timing, so it holds on a busy machine.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export async function promotedByYoungCollections(probe: string, args: string[], nodeFlags: string[] = []): Promise<{ promotedBytes: number; stdout: string }> {
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeFlags, '--trace-gc-nvp', '--import', 'tsx', probe, ...args], {
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const promotedBytes = [...stdout.matchAll(/\bgc=s\b.*?\bpromoted=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
  return { promotedBytes, stdout };
}
