// Electron main: thin glue around AppService. One window that hides to the
// tray on close, a tray menu, a single-instance lock, the contract over IPC.
// Quitting (tray or app menu) lets requests under way finish, then stops the
// agent and the local test server (quit-drain.ts).
import { join } from 'node:path';
import { BrowserWindow, app, ipcMain, session } from 'electron';
import { AppService } from '../service/app-service.js';
import { reclaimMemoryAfterTraffic } from '../service/memory-after-traffic.js';
import { applyLoginItem, claimSingleInstance, showTunnelAlerts, startsHidden } from './desktop-conventions.js';
import { forwardEvents, registerIpcHandlers } from './ipc-handlers.js';
import { openExternally } from './open-external.js';
import { closeBeforeQuit } from './quit-drain.js';
import { watchPowerSignals } from './power-signals.js';
import { createTray } from './tray.js';
import { loadWindowBounds, rememberWindowBounds } from './window-state.js';

const rendererUrl = process.env.ELECTRON_RENDERER_URL;
const rendererFile = join(__dirname, '../renderer/index.html');
const resourcesDir = app.isPackaged ? join(process.resourcesPath, 'resources') : join(__dirname, '../../resources');
const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function isOurPage(url: string): boolean {
  if (rendererUrl !== undefined && url.startsWith(rendererUrl)) return true;
  // Not decoded: our own file's path has nothing to decode, and a malformed escape would throw here.
  return url.startsWith('file://') && URL.canParse(url) && new URL(url).pathname.endsWith('/renderer/index.html');
}

// A separate profile, for the smoke test and for trying things without touching the real one.
if (process.env.BURROW_USER_DATA) app.setPath('userData', process.env.BURROW_USER_DATA);

async function main(): Promise<void> {
  // A second launch brings this one's window forward (once it exists).
  let bringForward = (): void => {};
  if (!claimSingleInstance(() => bringForward())) return;
  await app.whenReady();
  const log = (line: string): void => console.log(line);
  const service = await AppService.open({ settingsPath: join(app.getPath('userData'), 'settings.json'), log });
  registerIpcHandlers(ipcMain, service, isOurPage);
  // Gives back what a burst of traffic grew, once the tunnels have gone quiet, as the command does.
  reclaimMemoryAfterTraffic(service);
  // After sleep or a screen lock, check the connection at once instead of waiting for heartbeats.
  watchPowerSignals((signal, sleptMs) => service.wake(signal, sleptMs));
  showTunnelAlerts(service);
  const settings = await service.getSettings();
  applyLoginItem(settings);
  service.on('settingsChanged', applyLoginItem);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy] } }),
  );
  session.defaultSession.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));

  const boundsFile = join(app.getPath('userData'), 'window-state.json');
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    ...loadWindowBounds(boundsFile),
    show: false,
    icon: join(resourcesDir, 'icon.png'),
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      // Middle-click could otherwise open a link in a new window.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  const showWindow = (): void => {
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  };
  rememberWindowBounds(window, boundsFile);
  if (!startsHidden(settings, process.argv)) window.once('ready-to-show', showWindow);
  window.webContents.on('will-navigate', (event, url) => isOurPage(url) || event.preventDefault());
  window.webContents.setWindowOpenHandler(({ url }) => {
    void openExternally(url);
    return { action: 'deny' };
  });
  forwardEvents(service, (channel, payload) => window.isDestroyed() || window.webContents.send(channel, payload));

  let quitting = false;
  // Closing the window keeps the tunnels running in the tray.
  window.on('close', (event) => {
    if (quitting) return;
    event.preventDefault();
    window.hide();
  });
  const openInspector = (): void => {
    showWindow();
    service.showView('inspector');
  };
  const tray = await createTray(service, { resourcesDir, openWindow: showWindow, openInspector, quit: () => app.quit(), log });
  bringForward = showWindow;
  app.on('activate', showWindow);
  closeBeforeQuit(app, {
    close: (drainMs, started) => service.close(drainMs, started),
    quitting: () => {
      quitting = true;
      tray.destroy();
      // Gone at once, as a quit looks; a second launch meanwhile has no window to bring forward.
      window.hide();
      bringForward = () => {};
    },
    log,
  });

  if (rendererUrl !== undefined) await window.loadURL(rendererUrl);
  else await window.loadFile(rendererFile);
}

void main();
