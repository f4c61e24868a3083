// Quitting the app lets the requests under way finish, as stopping the
// `burrow` command does: the window and tray go at once, the agent takes
// nothing new (its tunnels answer 502 offline from then on) and the process
// ends once the last request has finished, or the wait is over. A second
// quit meanwhile ends it at once, cutting what is left.
import { defaultDrainTimeoutMs } from '../tunnel/config.js';

/** What of Electron's `app` the quit needs (not imported, so that it runs in plain Node too). */
export interface QuittingApp {
  on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): unknown;
  quit(): void;
}

export interface QuitHooks {
  /** Closes the agent and the local test server, waiting up to `drainMs` for requests under way; resolves how many it cut. */
  close(drainMs: number, started: (underWay: number) => void): Promise<number>;
  /** The quit has begun: windows may close, the tray goes. */
  quitting(): void;
  log(line: string): void;
  drainMs?: number;
}

export function closeBeforeQuit(app: QuittingApp, hooks: QuitHooks): void {
  const drainMs = hooks.drainMs ?? defaultDrainTimeoutMs;
  let closing = false;
  let closed = false;
  app.on('before-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    if (closing) {
      hooks.log('quitting again: the requests still under way are cut');
      closed = true;
      // Not from within this event: Electron starts the quit over.
      setImmediate(() => app.quit());
      return;
    }
    closing = true;
    hooks.quitting();
    const started = (underWay: number): void => {
      if (underWay > 0) hooks.log(`quitting: ${underWay === 1 ? '1 request under way gets' : `${underWay} requests under way get`} up to ${drainMs / 1000} s to finish (quit again to cut them)`);
    };
    void hooks
      .close(drainMs, started)
      .then((cut) => cut > 0 && hooks.log(`quit: ${cut === 1 ? '1 request was' : `${cut} requests were`} still under way, and cut`))
      .catch((error: Error) => hooks.log(`closing: ${error.message}`))
      .finally(() => {
        closed = true;
        app.quit();
      });
  });
}
