// Directories a test file writes to, removed once its tests are done: made
// with mkdtemp and left, they gathered in /tmp by the hundred. Import it from
// test files only (it registers its hook as the file is collected).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

afterAll(() => {
  for (const directory of made.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A new directory under the system's temporary one, named from `prefix`. */
export function scratchDirectory(prefix: string): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  made.push(directory);
  return directory;
}
