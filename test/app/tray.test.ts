// The tray: a pure menu builder, and the Electron glue around it with the
// electron module stubbed, toggling a real AppService.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildTrayMenu, trayTooltip, type TrayActions, type TrayMenuItem, type TrayState } from '../../src/main/app/tray-menu.js';
import { AppService } from '../../src/main/service/app-service.js';
import type { TunnelView } from '../../src/shared/contract.js';

const electron = vi.hoisted(() => {
  const trays: { image: unknown; tooltip: string; menu: TrayMenuItem[]; destroyed: boolean; listeners: Record<string, () => void> }[] = [];
  const clipboardText: string[] = [];
  const opened: string[] = [];
  return {
    trays,
    clipboardText,
    opened,
    module: {
      clipboard: { writeText: (text: string) => clipboardText.push(text) },
      shell: { openExternal: async (url: string) => void opened.push(url) },
      nativeImage: { createFromPath: (path: string) => ({ path }) },
      Menu: { buildFromTemplate: (template: TrayMenuItem[]) => template },
      Tray: class {
        image: unknown;
        tooltip = '';
        menu: TrayMenuItem[] = [];
        destroyed = false;
        listeners: Record<string, () => void> = {};
        constructor(image: unknown) {
          this.image = image;
          trays.push(this);
        }
        setImage(image: unknown) {
          this.image = image;
        }
        setToolTip(tooltip: string) {
          this.tooltip = tooltip;
        }
        setContextMenu(menu: TrayMenuItem[]) {
          this.menu = menu;
        }
        on(event: string, listener: () => void) {
          this.listeners[event] = listener;
        }
        destroy() {
          this.destroyed = true;
        }
      },
    },
  };
});
vi.mock('electron', () => electron.module);
const { createTray } = await import('../../src/main/app/tray.js');

const tunnel = (patch: Partial<TunnelView>): TunnelView => ({ id: 't1', name: 'web', protocol: 'http', target: '3000', enabled: true, status: 'online', ...patch });

function recordingActions() {
  const calls: string[] = [];
  const actions: TrayActions = {
    openWindow: () => calls.push('open'),
    openInspector: () => calls.push('inspector'),
    copyUrl: (url) => calls.push(`copy ${url}`),
    openUrl: (url) => calls.push(`browse ${url}`),
    setTunnelEnabled: (id, enabled) => calls.push(`tunnel ${id} ${enabled}`),
    setEmbeddedServer: (running) => calls.push(`embedded ${running}`),
    quit: () => calls.push('quit'),
  };
  return { calls, actions };
}

const state = (patch: Partial<TrayState> = {}): TrayState => ({
  agent: { state: 'ready', detail: '', server: '127.0.0.1:7835' },
  tunnels: [],
  embedded: { running: false },
  ...patch,
});

describe('tray menu (pure)', () => {
  it('lists each tunnel with its state, URL, switch, copy and open; then Open, Open inspector, the local server and Quit', () => {
    const { calls, actions } = recordingActions();
    const menu = buildTrayMenu(
      state({
        tunnels: [
          tunnel({ publicUrl: 'http://web.localhost:8080' }),
          tunnel({ id: 't2', name: 'api', enabled: false, status: 'disabled' }),
          tunnel({ id: 't3', name: 'bad', status: 'error', error: { code: 'X', message: 'name taken' } }),
        ],
      }),
      actions,
    );
    const tunnels = menu.filter((item) => item.type === 'submenu');
    expect(tunnels.map((item) => item.label)).toEqual(['● web → 3000', '○ off api → 3000', '✕ bad → 3000']);
    expect(tunnels.map((item) => item.submenu!.map((entry) => [entry.label, entry.checked]))).toEqual([
      [['http://web.localhost:8080', undefined], ['Enabled', true], ['Copy URL', undefined], ['Open in browser', undefined]],
      [['disabled', undefined], ['Enabled', false]],
      [['name taken', undefined], ['Enabled', true]],
    ]);
    const [web, api] = tunnels.map((item) => item.submenu!);
    web!.find((entry) => entry.label === 'Enabled')!.click!();
    api!.find((entry) => entry.label === 'Enabled')!.click!();
    web!.find((entry) => entry.label === 'Copy URL')!.click!();
    web!.find((entry) => entry.label === 'Open in browser')!.click!();
    for (const label of ['Open Burrow', 'Open inspector', 'Start local test server', 'Quit Burrow']) menu.find((item) => item.label === label)!.click!();
    expect(calls).toEqual(['tunnel t1 false', 'tunnel t2 true', 'copy http://web.localhost:8080', 'browse http://web.localhost:8080', 'open', 'inspector', 'embedded true', 'quit']);
    expect(menu[0]).toMatchObject({ label: 'Connected · 127.0.0.1:7835', enabled: false });
  });

  it('says so when there are no tunnels, offers to stop a running local server, and sums up in the tooltip', () => {
    const { calls, actions } = recordingActions();
    const menu = buildTrayMenu(state({ agent: { state: 'backoff', detail: 'refused', server: 'x:1' }, embedded: { running: true } }), actions);
    expect(menu.some((item) => item.label === 'No tunnels yet' && item.enabled === false)).toBe(true);
    menu.find((item) => item.label === 'Stop local test server')!.click!();
    expect(calls).toEqual(['embedded false']);
    expect(trayTooltip(state({ tunnels: [tunnel({}), tunnel({ id: 't2', status: 'connecting' })] }))).toBe(
      'Burrow: Connected to 127.0.0.1:7835, 1 of 2 tunnels online',
    );
  });
});

describe('tray (electron stubbed)', () => {
  let service: AppService | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('toggling a tunnel from the menu reaches AppService, and the menu follows', async () => {
    service = await AppService.open({ initial: { settings: { serverAddress: '127.0.0.1:1' } } });
    const created = await service.createTunnel({ name: 'web', protocol: 'http', target: '3000', enabled: false });
    const opened: string[] = [];
    const handle = await createTray(service, { resourcesDir: '/res', openWindow: () => opened.push('open'), openInspector: () => opened.push('inspector'), quit: () => opened.push('quit'), log: () => {} });
    const tray = electron.trays.at(-1)!;
    const item = () => tray.menu.find((entry) => entry.type === 'submenu')!.submenu!.find((entry) => entry.type === 'checkbox')!;
    expect(tray.menu.find((entry) => entry.type === 'submenu')).toMatchObject({ label: '○ off web → 3000' });
    expect(item()).toMatchObject({ label: 'Enabled', checked: false });
    // Not connected: the grey icon.
    expect(tray.image).toEqual({ path: '/res/tray-offline.png' });

    item().click!();
    await vi.waitFor(async () => expect((await service!.listTunnels())[0]).toMatchObject({ id: created.id, enabled: true }));
    await vi.waitFor(() => expect(item()).toMatchObject({ checked: true }));
    item().click!();
    await vi.waitFor(async () => expect((await service!.listTunnels())[0]).toMatchObject({ enabled: false, status: 'disabled' }));

    tray.listeners.click!();
    expect(opened).toEqual(['open']);
    handle.destroy();
    expect(tray.destroyed).toBe(true);
    // Destroyed trays stop listening: a later change does not touch the menu.
    const menuBefore = tray.menu;
    await service.setTunnelEnabled({ id: created.id, enabled: true });
    expect(tray.menu).toBe(menuBefore);
  });

  it('shows the connected icon once the agent reaches the local test server', async () => {
    service = await AppService.open({ initial: { settings: { embeddedServer: true } } });
    const handle = await createTray(service, { resourcesDir: '/res', openWindow: () => {}, openInspector: () => {}, quit: () => {}, log: () => {} });
    const tray = electron.trays.at(-1)!;
    await vi.waitFor(() => expect(tray.image).toEqual({ path: '/res/tray.png' }));
    expect(tray.tooltip).toMatch(/^Burrow: Connected to 127\.0\.0\.1:\d+, 0 of 0 tunnels online$/);
    expect(tray.menu.some((entry) => entry.label === 'Stop local test server')).toBe(true);
    // A live tunnel's URL is copied to the clipboard and opened in the browser from its submenu.
    const { demoTargets } = await service.getEmbeddedServer();
    await service.createTunnel({ name: 'live', protocol: 'http', target: demoTargets!.http });
    const live = () => tray.menu.find((entry) => entry.label === '● live → ' + demoTargets!.http)?.submenu;
    await vi.waitFor(() => expect(live()).toBeDefined());
    const url = live()![0]!.label!;
    expect(url).toMatch(/^http:\/\/live\.localhost:\d+$/);
    live()!.find((entry) => entry.label === 'Copy URL')!.click!();
    live()!.find((entry) => entry.label === 'Open in browser')!.click!();
    expect(electron.clipboardText).toEqual([url]);
    await vi.waitFor(() => expect(electron.opened).toEqual([url]));
    handle.destroy();
  });
});
