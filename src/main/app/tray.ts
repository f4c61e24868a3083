// The tray icon: rebuilt from AppService state whenever a tunnel, the agent
// or the local test server changes; its icon shows whether the agent is
// connected. Failed commands are logged, never thrown into Electron.
import { join } from 'node:path';
import { Menu, Tray, clipboard, nativeImage, type MenuItemConstructorOptions } from 'electron';
import type { AppService } from '../service/app-service.js';
import { openExternally } from './open-external.js';
import { buildTrayMenu, isOnline, trayTooltip, type TrayActions, type TrayState } from './tray-menu.js';

export interface TrayOptions {
  /** Folder holding tray*.png. */
  resourcesDir: string;
  openWindow(): void;
  /** Opens the window on the Inspector view. */
  openInspector(): void;
  quit(): void;
  log(line: string): void;
}

function iconFile(online: boolean): string {
  if (process.platform === 'darwin') return online ? 'trayTemplate.png' : 'trayOfflineTemplate.png';
  return online ? 'tray.png' : 'tray-offline.png';
}

export async function createTray(service: AppService, options: TrayOptions): Promise<{ destroy(): void }> {
  const state: TrayState = {
    agent: await service.getAgentStatus(),
    tunnels: await service.listTunnels(),
    embedded: await service.getEmbeddedServer(),
  };
  const tray = new Tray(nativeImage.createFromPath(join(options.resourcesDir, iconFile(false))));
  const report = (what: string) => (error: Error) => options.log(`tray: ${what} failed: ${error.message}`);
  const actions: TrayActions = {
    openWindow: options.openWindow,
    openInspector: options.openInspector,
    copyUrl: (url) => clipboard.writeText(url),
    openUrl: (url) => void openExternally(url).catch(report('opening the URL')),
    quit: options.quit,
    setTunnelEnabled: (id, enabled) => void service.setTunnelEnabled({ id, enabled }).catch(report('toggling a tunnel')),
    setEmbeddedServer: (running) => void (running ? service.startEmbeddedServer() : service.stopEmbeddedServer()).catch(report('the local test server')),
  };
  let shownOnline: boolean | undefined;
  const render = (): void => {
    const online = isOnline(state);
    if (online !== shownOnline) {
      tray.setImage(nativeImage.createFromPath(join(options.resourcesDir, iconFile(online))));
      shownOnline = online;
    }
    tray.setToolTip(trayTooltip(state));
    tray.setContextMenu(Menu.buildFromTemplate(buildTrayMenu(state, actions) as MenuItemConstructorOptions[]));
  };
  const onAgent = (agent: TrayState['agent']): void => {
    state.agent = agent;
    render();
  };
  const onTunnels = (tunnels: TrayState['tunnels']): void => {
    state.tunnels = tunnels;
    render();
  };
  const onEmbedded = (embedded: TrayState['embedded']): void => {
    state.embedded = embedded;
    render();
  };
  service.on('agentStatus', onAgent);
  service.on('tunnels', onTunnels);
  service.on('embeddedServer', onEmbedded);
  tray.on('click', options.openWindow);
  render();
  return {
    destroy: () => {
      service.off('agentStatus', onAgent);
      service.off('tunnels', onTunnels);
      service.off('embeddedServer', onEmbedded);
      tray.destroy();
    },
  };
}
