// npm 12 runs no dependency install script that package.json's allowScripts
// does not allow. Every package in the lockfile that declares one has been
// reviewed: exactly the three that need it may run (Electron fetches its
// binary, esbuild and buf check their platform binaries); the rest are denied.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/common.js';

const read = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(repoRoot, file), 'utf8')) as Record<string, unknown>;

describe('allowScripts', () => {
  const pkg = read('package.json') as { allowScripts: Record<string, boolean> };
  const lock = read('package-lock.json') as { packages: Record<string, { hasInstallScript?: boolean }> };
  const withScripts = [...new Set(Object.entries(lock.packages).flatMap(([path, entry]) => (entry.hasInstallScript ? [path.slice(path.lastIndexOf('node_modules/') + 13)] : [])))].sort();

  it('decides for every package in the lockfile that has an install script, and for nothing else', () => {
    expect(Object.keys(pkg.allowScripts).sort()).toEqual(withScripts);
  });

  it('allows exactly electron, esbuild and @bufbuild/buf', () => {
    const allowed = Object.entries(pkg.allowScripts).filter(([, allow]) => allow === true).map(([name]) => name);
    expect(allowed.sort()).toEqual(['@bufbuild/buf', 'electron', 'esbuild']);
    expect(Object.values(pkg.allowScripts).every((value) => typeof value === 'boolean')).toBe(true);
  });
});
