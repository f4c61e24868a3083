// Which log entry a replay answers with. It was the newest replay of the
// same original: with several replays at once each could get another's, and
// one the edge refused (never logged) got the one before it (an audit of
// the inspector's API).
import { afterEach, describe, expect, it } from 'vitest';
import { AppService } from '../../src/main/service/app-service.js';
import { inProcessApi } from '../../src/main/service/command-dispatch.js';
import { eventually, eventuallyAsync, publicRequest, startBackend, type Backend } from '../helpers/common.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

describe('replayRequest', () => {
  it("answers with its own replay's request id, also beside others at once, and with none when the edge refused it", async () => {
    const backend: Backend = await startBackend((req, res) => res.end(req.url));
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

    const replays = await Promise.all([0, 1, 2, 3, 4].map((i) => api.replayRequest({ requestId: original, edit: { path: `/at-once-${i}` } })));
    const paths = await Promise.all(replays.map(async (replay) => (replay.requestId === undefined ? undefined : (await api.getRequestDetail({ requestId: replay.requestId }))?.path)));
    expect(paths).toEqual([0, 1, 2, 3, 4].map((i) => `/at-once-${i}`));

    const refused = await api.replayRequest({ requestId: original, edit: { path: `/${'x'.repeat(100_000)}` } });
    // Its head too large for the edge (414, or 431 on a kept connection): answered, never logged.
    expect([refused.status >= 400, refused.requestId]).toEqual([true, undefined]);
  });
});
