// `npm run dist` cannot run here (no Electron binary), so its inputs are
// checked instead: every platform target, icons that exist, and entry points
// that the build produced.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/common.js';

const config = parse(readFileSync(join(repoRoot, 'electron-builder.yml'), 'utf8')) as Record<string, any>;
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<string, any>;

describe('packaging', () => {
  it('targets a macOS dmg, a Windows installer, an AppImage and a deb', () => {
    expect(config.mac.target).toBe('dmg');
    expect(config.win.target).toBe('nsis');
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.linux.maintainer).toMatch(/@/);
    expect(config.appId).toMatch(/^[a-z]+(\.[a-z]+)+$/);
  });

  it('names icons that exist, tray icons included (a macOS template image among them)', () => {
    for (const platform of ['mac', 'win', 'linux']) expect(existsSync(join(repoRoot, config[platform].icon)), platform).toBe(true);
    for (const name of ['tray.png', 'tray-offline.png', 'trayTemplate.png', 'trayTemplate@2x.png', 'trayOfflineTemplate.png', 'trayOfflineTemplate@2x.png']) {
      expect(existsSync(join(repoRoot, 'resources', name)), name).toBe(true);
    }
    expect(config.extraResources).toContainEqual(expect.objectContaining({ from: 'resources', to: 'resources' }));
  });

  it('packs the built app: main, preload and renderer exist where package.json and the window expect them', () => {
    expect(config.files).toContain('out/**');
    expect(pkg.main).toBe('./out/main/index.js');
    for (const file of ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html']) expect(existsSync(join(repoRoot, file)), file).toBe(true);
    expect(pkg.scripts.dist).toContain('electron-builder');
  });

  it('builds the window isolated and sandboxed', () => {
    const main = readFileSync(join(repoRoot, 'out/main/index.js'), 'utf8');
    expect(main).toContain('contextIsolation: true');
    expect(main).toContain('sandbox: true');
    expect(main).toContain('nodeIntegration: false');
  });

  it('keeps Electron out of the engine, the service and the inspector', () => {
    const offenders: string[] = [];
    for (const dir of ['src/main/tunnel', 'src/main/service', 'src/main/inspector', 'src/main/cli', 'src/shared']) {
      for (const file of readdirSync(join(repoRoot, dir), { recursive: true, encoding: 'utf8' })) {
        if (!file.endsWith('.ts')) continue;
        if (/from ['"]electron['"]|require\(['"]electron['"]\)/.test(readFileSync(join(repoRoot, dir, file), 'utf8'))) offenders.push(`${dir}/${file}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
