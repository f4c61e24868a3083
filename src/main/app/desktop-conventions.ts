// What a desktop app is expected to do beyond its window: one instance,
// notifications for tunnel alerts, starting at login (maybe hidden in the
// tray), and the decision to open the window at start. Thin over Electron.
import { Notification, app } from 'electron';
import type { Settings } from '../../shared/contract.js';
import type { AppService } from '../service/app-service.js';

/** The flag the login item starts the app with when it should stay in the tray. */
export const hiddenFlag = '--hidden';

/**
 * One instance per user: false (and this one quits) when another runs; that
 * one is told through `onSecondLaunch` and brings its window forward.
 */
export function claimSingleInstance(onSecondLaunch: () => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', onSecondLaunch);
  return true;
}

/** Shows each tunnel alert the service raises (it raises them only while notifications are on). */
export function showTunnelAlerts(service: AppService): () => void {
  const show = ({ title, body }: { title: string; body: string }): void => {
    if (Notification.isSupported()) new Notification({ title, body }).show();
  };
  service.on('notify', show);
  return () => void service.off('notify', show);
}

/** Registers (or removes) the app as a login item, as the settings say. */
export function applyLoginItem(settings: Pick<Settings, 'startAtLogin' | 'startHidden'>): void {
  app.setLoginItemSettings({ openAtLogin: settings.startAtLogin, openAsHidden: settings.startHidden, args: settings.startHidden ? [hiddenFlag] : [] });
}

/** Whether the window stays in the tray at start: asked by the settings, or started hidden at login. */
export function startsHidden(settings: Pick<Settings, 'startHidden'>, argv: readonly string[]): boolean {
  return settings.startHidden || argv.includes(hiddenFlag) || app.getLoginItemSettings().wasOpenedAsHidden === true;
}
