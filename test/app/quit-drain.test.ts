// Quitting the desktop app lets a request under way finish (it was cut with
// a 502), and a second quit ends it at once. The app's quit glue against the
// real AppService, its embedded server and a local service on loopback;
// Electron's app is stood in for by an event emitter.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeBeforeQuit } from '../../src/main/app/quit-drain.js';
import { AppService } from '../../src/main/service/app-service.js';
import type { TunnelView } from '../../src/shared/contract.js';
import { eventually, eventuallyAsync, publicRequest } from '../helpers/common.js';
import { scratchDirectory } from '../helpers/scratch.js';

class StandInApp extends EventEmitter {
  quits = 0;
  quit(): void {
    this.quits++;
  }
  /** Emits a quit as Electron does; whether a listener held it. */
  askToQuit(): boolean {
    let held = false;
    this.emit('before-quit', { preventDefault: () => (held = true) });
    return held;
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A service whose /held answers only when told to, a tunnel to it through the app's embedded server, and the app's quit glue. */
async function appWithHeldRequest(): Promise<{ app: StandInApp; lines: string[]; quittingCalls: () => number; closed: () => Promise<unknown>; release: () => void; answer: ReturnType<typeof publicRequest> }> {
  const held: ServerResponse[] = [];
  const local: Server = createServer((req: IncomingMessage, res: ServerResponse) => (req.url === '/held' ? held.push(res) : res.end('quick')));
  await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => local.close(resolve)));
  const release = (): void => {
    for (const res of held.splice(0)) res.end('the whole answer');
  };
  cleanups.push(async () => release());

  const service = await AppService.open({ settingsPath: join(scratchDirectory('burrow-quit-'), 'settings.json'), flushIntervalMs: 20 });
  cleanups.push(() => service.close());
  await service.startEmbeddedServer();
  const tunnel = await service.createTunnel({ name: 'quit', protocol: 'http', target: String((local.address() as AddressInfo).port) });
  let online: TunnelView | undefined;
  await eventuallyAsync(async () => (online = (await service.listTunnels()).find((t) => t.id === tunnel.id && t.status === 'online')) !== undefined, 'the tunnel to come online');
  const port = Number(new URL(online!.publicUrl!).port);

  const app = new StandInApp();
  const lines: string[] = [];
  let quittingCalls = 0;
  let closing: Promise<unknown> = Promise.resolve();
  closeBeforeQuit(app, {
    close: (drainMs, started) => (closing = service.close(drainMs, started)),
    quitting: () => quittingCalls++,
    log: (line) => lines.push(line),
  });
  const answer = publicRequest({ port, host: 'quit.localhost', path: '/held' });
  await eventually(() => held.length === 1, 'the request to reach the service');
  return { app, lines, quittingCalls: () => quittingCalls, closed: () => closing, release, answer };
}

describe('quitting the desktop app', () => {
  it('lets a request under way finish, then quits', async () => {
    const { app, lines, quittingCalls, closed, release, answer } = await appWithHeldRequest();
    expect(app.askToQuit()).toBe(true);
    expect(quittingCalls()).toBe(1);
    await eventually(() => lines.some((line) => line.startsWith('quitting: 1 request under way gets up to 10 s')), 'the quit to say it waits');
    expect(app.quits).toBe(0);
    release();
    expect(await answer).toMatchObject({ status: 200, body: Buffer.from('the whole answer') });
    await closed();
    await eventually(() => app.quits === 1, 'the app to quit');
    // Electron asks again as it quits: let through.
    expect(app.askToQuit()).toBe(false);
    expect(lines.filter((line) => line.startsWith('quit:'))).toEqual([]);
  });

  it('quits at once when asked again while a request is under way', async () => {
    const { app, lines, release, closed, answer } = await appWithHeldRequest();
    app.askToQuit();
    await eventually(() => lines.some((line) => line.startsWith('quitting: 1 request')), 'the quit to say it waits');
    expect(app.askToQuit()).toBe(true);
    await eventually(() => app.quits === 1, 'the second quit to go through');
    expect(lines).toContain('quitting again: the requests still under way are cut');
    expect(app.askToQuit()).toBe(false);
    release();
    await answer.catch(() => undefined);
    await closed();
  });
});
