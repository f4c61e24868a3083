// What replayRequest answers. Its request id was the newest replay of the
// same original: with several replays at once each could get another's, and
// one the edge refused (never logged) got the one before it. And replays in
// flight had no bound: a script's thousands took the tunnel's whole share of
// its service (both from an audit of the inspector's API).
import type { RequestListener } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AppService } from '../../src/main/service/app-service.js';
import { inProcessApi } from '../../src/main/service/command-dispatch.js';
import { maxReplaysInFlight } from '../../src/main/service/request-tools.js';
import { eventually, eventuallyAsync, publicRequest, startBackend } from '../helpers/common.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A service behind a tunnel on an embedded server, and the id of one request to it (`/original`) in the log. */
async function loggedOriginal(handler: RequestListener) {
  const backend = await startBackend(handler);
  cleanups.push(() => backend.close());
  const service = await AppService.open({ flushIntervalMs: 20 });
  cleanups.push(async () => void (await service.close()));
  const api = inProcessApi(service);
  await api.startEmbeddedServer(undefined);
  const created = await api.createTunnel({ name: 'again', protocol: 'http', target: String(backend.port) });
  let publicUrl: string | undefined;
  api.on('tunnels', (list) => (publicUrl = list.find((t) => t.id === created.id && t.status === 'online')?.publicUrl ?? publicUrl));
  await eventually(() => publicUrl !== undefined, 'the tunnel to come online');
  await publicRequest({ port: Number(new URL(publicUrl!).port), host: 'again.localhost', path: '/original' });
  let original = '';
  await eventuallyAsync(async () => {
    original = (await api.listRequests({})).find((r) => r.path === '/original' && r.state === 'done')?.requestId ?? '';
    return original !== '';
  }, 'the original in the log');
  return { api, original };
}

describe('replayRequest', () => {
  it("answers with its own replay's request id, also beside others at once, and with none when the edge refused it", async () => {
    const { api, original } = await loggedOriginal((req, res) => res.end(req.url));
    const replays = await Promise.all([0, 1, 2, 3, 4].map((i) => api.replayRequest({ requestId: original, edit: { path: `/at-once-${i}` } })));
    const paths = await Promise.all(replays.map(async (replay) => (replay.requestId === undefined ? undefined : (await api.getRequestDetail({ requestId: replay.requestId }))?.path)));
    expect(paths).toEqual([0, 1, 2, 3, 4].map((i) => `/at-once-${i}`));

    const refused = await api.replayRequest({ requestId: original, edit: { path: `/${'x'.repeat(100_000)}` } });
    // Its head too large for the edge (414, or 431 on a kept connection): answered, never logged.
    expect([refused.status >= 400, refused.requestId]).toEqual([true, undefined]);
  });

  it('refuses a replay while 32 are on their way, saying why, and takes one again when one has its answer', async () => {
    const held: (() => void)[] = [];
    const { api, original } = await loggedOriginal((req, res) => {
      if (req.url === '/original') res.end();
      else held.push(() => res.end(req.url));
    });
    const replays = Array.from({ length: maxReplaysInFlight }, (_, i) => api.replayRequest({ requestId: original, edit: { path: `/held-${i}` } }));
    await eventually(() => held.length === maxReplaysInFlight, 'every replay at the service');
    const refusal = await api.replayRequest({ requestId: original }).catch((error: { code?: string; message?: string }) => ({ code: error.code, message: error.message }));
    expect(refusal).toEqual({ code: 'BURROW_E_CONFLICT', message: '32 replays are already on their way; send this one when one of them has its answer' });
    held.shift()!();
    await replays[0];
    const next = api.replayRequest({ requestId: original, edit: { path: '/next' } });
    await eventually(() => held.length === maxReplaysInFlight, 'the next replay at the service');
    for (const answer of held.splice(0)) answer();
    expect((await Promise.all([...replays, next])).map((replay) => replay.status)).toEqual(Array(maxReplaysInFlight + 1).fill(200));
  });
});
