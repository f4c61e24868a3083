// Notifications, the login item, starting hidden and the window's size and
// place, through a stubbed electron module: the calls made, with what.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppService } from '../../src/main/service/app-service.js';
import { TunnelServer } from '../../src/main/tunnel/server/tunnel-server.js';

const electron = vi.hoisted(() => {
  const state = {
    notifications: [] as { title: string; body: string; shown: boolean }[],
    loginItem: undefined as unknown,
    lockHeld: false,
    quits: 0,
    appListeners: {} as Record<string, () => void>,
    wasOpenedAsHidden: false,
    displays: [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }],
  };
  return {
    state,
    module: {
      Notification: class {
        static isSupported(): boolean {
          return true;
        }
        private readonly record: { title: string; body: string; shown: boolean };
        constructor(options: { title: string; body: string }) {
          this.record = { ...options, shown: false };
          state.notifications.push(this.record);
        }
        show() {
          this.record.shown = true;
        }
      },
      app: {
        requestSingleInstanceLock: () => !state.lockHeld,
        quit: () => state.quits++,
        on: (event: string, listener: () => void) => (state.appListeners[event] = listener),
        setLoginItemSettings: (settings: unknown) => (state.loginItem = settings),
        getLoginItemSettings: () => ({ wasOpenedAsHidden: state.wasOpenedAsHidden }),
      },
      screen: { getAllDisplays: () => state.displays },
    },
  };
});
vi.mock('electron', () => electron.module);
const { applyLoginItem, claimSingleInstance, showTunnelAlerts, startsHidden } = await import('../../src/main/app/desktop-conventions.js');
const { loadWindowBounds, rememberWindowBounds } = await import('../../src/main/app/window-state.js');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  electron.state.notifications.length = 0;
});

describe('notifications', () => {
  it('tells when a tunnel goes offline and comes back, while notifications are on', async () => {
    const startServer = async (port: number): Promise<TunnelServer> => {
      const server = new TunnelServer({ controlAddress: `127.0.0.1:${port}`, publicAddress: '127.0.0.1:0', domain: 'localhost' });
      await server.start();
      return server;
    };
    let server = await startServer(0);
    const controlPort = server.controlPort;
    cleanups.push(() => server.stop());
    const service = await AppService.open({ initial: { settings: { serverAddress: `127.0.0.1:${controlPort}` } } });
    cleanups.push(() => service.close());
    cleanups.push(showTunnelAlerts(service));
    await service.createTunnel({ name: 'web', protocol: 'http', target: '3000' });
    const status = async (): Promise<string> => (await service.listTunnels())[0]!.status;
    await expect.poll(status).toBe('online');
    await server.stop();
    await expect.poll(() => electron.state.notifications.map((n) => n.title)).toEqual(['Tunnel web is offline']);
    server = await startServer(controlPort);
    await expect.poll(() => electron.state.notifications.map((n) => n.title), { timeout: 10_000 }).toEqual(['Tunnel web is offline', 'Tunnel web is back online']);
    expect(electron.state.notifications.every((n) => n.shown)).toBe(true);
    // Off: the same again tells nothing.
    await service.updateSettings({ notifications: false });
    await server.stop();
    await expect.poll(status).not.toBe('online');
    expect(electron.state.notifications).toHaveLength(2);
  });
});

describe('one instance', () => {
  it('takes the lock and brings the window forward on a second launch; quits when another instance holds it', () => {
    const forward: string[] = [];
    expect(claimSingleInstance(() => forward.push('forward'))).toBe(true);
    electron.state.appListeners['second-instance']!();
    expect(forward).toEqual(['forward']);
    electron.state.lockHeld = true;
    expect(claimSingleInstance(() => forward.push('never'))).toBe(false);
    expect(electron.state.quits).toBe(1);
    electron.state.lockHeld = false;
  });
});

describe('login item and starting hidden', () => {
  it('registers the app at login, hidden or not, as the settings say', () => {
    applyLoginItem({ startAtLogin: true, startHidden: true });
    expect(electron.state.loginItem).toEqual({ openAtLogin: true, openAsHidden: true, args: ['--hidden'] });
    applyLoginItem({ startAtLogin: false, startHidden: false });
    expect(electron.state.loginItem).toEqual({ openAtLogin: false, openAsHidden: false, args: [] });
  });

  it('stays in the tray when the settings say so, when started with --hidden, or when macOS opened it hidden', () => {
    expect(startsHidden({ startHidden: false }, ['electron', '.'])).toBe(false);
    expect(startsHidden({ startHidden: true }, ['electron', '.'])).toBe(true);
    expect(startsHidden({ startHidden: false }, ['burrow', '--hidden'])).toBe(true);
    electron.state.wasOpenedAsHidden = true;
    expect(startsHidden({ startHidden: false }, ['burrow'])).toBe(true);
    electron.state.wasOpenedAsHidden = false;
  });
});

describe('window size and place', () => {
  function fakeWindow(bounds: { x: number; y: number; width: number; height: number }) {
    const window = new EventEmitter() as EventEmitter & Record<string, unknown>;
    Object.assign(window, { isDestroyed: () => false, isMinimized: () => false, isFullScreen: () => false, getBounds: () => bounds });
    return window;
  }

  it('saves the bounds once the window stops moving, and restores them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'burrow-window-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'window-state.json');
    expect(loadWindowBounds(file)).toBeUndefined();
    const bounds = { x: 100, y: 80, width: 1100, height: 700 };
    const window = fakeWindow(bounds);
    rememberWindowBounds(window as never, file, 10);
    window.emit('move');
    window.emit('resize');
    await expect.poll(() => readFileSync(file, 'utf8').trim(), { timeout: 5_000 }).toBe(JSON.stringify(bounds));
    expect(loadWindowBounds(file)).toEqual(bounds);
  });

  it('does not restore a place no display shows any more, nor a broken file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'burrow-window-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'window-state.json');
    writeFileSync(file, JSON.stringify({ x: 5000, y: 100, width: 800, height: 600 }));
    expect(loadWindowBounds(file)).toBeUndefined();
    writeFileSync(file, '{ not json');
    expect(loadWindowBounds(file)).toBeUndefined();
    writeFileSync(file, JSON.stringify({ x: 10, y: 10, width: 20, height: 600 }));
    expect(loadWindowBounds(file)).toBeUndefined();
  });
});
