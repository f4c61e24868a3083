// Electron main: thin glue around AppService. One window (hidden to the
// tray on close), a single-instance lock, the contract over IPC.
import { join } from 'node:path';
import { BrowserWindow, app, ipcMain } from 'electron';
import { eventNames, eventChannel } from '../../shared/contract.js';
import { AppService } from '../service/app-service.js';
import { registerIpcHandlers } from './ipc-handlers.js';

const rendererUrl = process.env.ELECTRON_RENDERER_URL;
const rendererFile = join(__dirname, '../renderer/index.html');

function isOurPage(url: string): boolean {
  if (rendererUrl !== undefined && url.startsWith(rendererUrl)) return true;
  return url.startsWith('file://') && decodeURIComponent(new URL(url).pathname).endsWith('/renderer/index.html');
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  const service = await AppService.open({ settingsPath: join(app.getPath('userData'), 'settings.json'), log: (line) => console.log(line) });
  registerIpcHandlers(ipcMain, service, isOurPage);

  const window = new BrowserWindow({
    width: 1200,
    height: 800,
    show: false,
    webPreferences: { preload: join(__dirname, '../preload/index.cjs'), contextIsolation: true, sandbox: true, nodeIntegration: false },
  });
  window.once('ready-to-show', () => window.show());
  window.webContents.on('will-navigate', (event, url) => isOurPage(url) || event.preventDefault());
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  for (const name of eventNames) {
    service.on(name, (payload: unknown) => window.isDestroyed() || window.webContents.send(eventChannel(name), payload));
  }
  app.on('second-instance', () => window.show());
  if (rendererUrl !== undefined) await window.loadURL(rendererUrl);
  else await window.loadFile(rendererFile);

  app.on('before-quit', () => void service.close());
  app.on('window-all-closed', () => app.quit());
}

void main();
