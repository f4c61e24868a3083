#!/usr/bin/env node
// The `burrow` command. It runs the bundle `npm run build` makes
// (out/cli/burrow.mjs) when that is newer than every source file; otherwise
// tsx compiles the TypeScript on load, so `npx burrow` works right after a
// checkout or an edit too, just with a slower start and more memory.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = join(root, 'out/cli/burrow.mjs');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const sources = ['src/main', 'src/shared'].map((dir) => join(root, dir)).filter(existsSync);
if (existsSync(bundle) && statSync(bundle).mtimeMs >= Math.max(...sources.map(newestSource))) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main/cli/main.ts');
}
