// The desktop app's idle collections follow its tunnels' traffic: none while
// the tunnels have carried nothing, the young generation once a burst is
// over, everything after a longer quiet, then nothing until the next burst.
// A real service, embedded server and demo backend; one-second samples.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AppService } from '../../src/main/service/app-service.js';
import { inProcessApi } from '../../src/main/service/command-dispatch.js';
import type { Collection } from '../../src/main/service/idle-memory.js';
import { reclaimMemoryAfterTraffic } from '../../src/main/service/memory-after-traffic.js';
import { eventually, eventuallyAsync, nthEvent, publicRequest } from '../helpers/common.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A service with one online tunnel to its demo HTTP backend; the tunnel's public port. */
async function serviceWithTunnel(): Promise<{ service: AppService; publicPort: number }> {
  const service = await AppService.open({ flushIntervalMs: 20 });
  cleanups.push(async () => void (await service.close()));
  const api = inProcessApi(service);
  const embedded = await api.startEmbeddedServer(undefined);
  const created = await api.createTunnel({ name: 'quiet', protocol: 'http', target: embedded.demoTargets!.http });
  let publicUrl: string | undefined;
  await eventuallyAsync(async () => {
    publicUrl = (await api.listTunnels(undefined)).find((t) => t.id === created.id && t.status === 'online')?.publicUrl;
    return publicUrl !== undefined;
  }, 'the tunnel to come online');
  return { service, publicPort: Number(new URL(publicUrl!).port) };
}

const policy = { busyUtilization: 0.05, idleUtilization: 0.01, fullAfterQuietSamples: 2 };

/** Resolves after the service's next `count` stats ticks. */
const ticks = (service: AppService, count: number): Promise<void> => nthEvent(service, 'stats', count);

describe('reclaimMemoryAfterTraffic', () => {
  it('collects nothing while the tunnels are idle, then the young generation after a burst and everything after a longer quiet, once', async () => {
    const { service, publicPort } = await serviceWithTunnel();
    const collections: Collection[] = [];
    const stop = reclaimMemoryAfterTraffic(service, {
      ticksPerSample: 1,
      policy,
      collect: (collection) => collections.push(collection),
    });
    cleanups.push(stop);

    await ticks(service, 2);
    expect(collections).toEqual([]);

    for (let i = 0; i < 5; i++) {
      const res = await publicRequest({ port: publicPort, host: 'quiet.localhost', method: 'POST', path: '/echo', body: 'x'.repeat(10_000) });
      expect(res.status).toBe(200);
    }
    await eventually(() => collections.length === 2, 'the young and then the full collection', 15_000);
    expect(collections).toEqual(['young', 'full']);

    // Quiet again, with nothing new to give back.
    await ticks(service, 3);
    expect(collections).toEqual(['young', 'full']);

    // The next burst starts it over; a stopped sampler collects nothing more.
    await publicRequest({ port: publicPort, host: 'quiet.localhost', path: '/' });
    await eventually(() => collections.length === 3, 'the young collection after the second burst', 15_000);
    expect(collections[2]).toBe('young');
    stop();
    await ticks(service, 3);
    expect(collections).toHaveLength(3);
  });

  it('counts a long body still flowing as traffic, though no request starts while it flows', async () => {
    const { service, publicPort } = await serviceWithTunnel();
    const collections: Collection[] = [];
    // Two-second samples: a sample counts as quiet only if the process stalled for two seconds, not one, while bytes flowed.
    cleanups.push(reclaimMemoryAfterTraffic(service, { ticksPerSample: 2, policy, collect: (collection) => collections.push(collection) }));
    const upload = request({ port: publicPort, method: 'POST', path: '/trickle', headers: { host: 'quiet.localhost' } });
    const answered = new Promise<number>((resolve, reject) => upload.on('response', (res) => res.resume().on('end', () => resolve(res.statusCode!))).on('error', reject));
    // Five seconds with a kilobyte every 200 ms: enough quiet samples for both collections, were bytes not traffic.
    let writes = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        upload.write('x'.repeat(1024));
        if (++writes < 25) return;
        clearInterval(timer);
        resolve();
      }, 200);
    });
    await ticks(service, 1);
    expect(collections).toEqual([]);
    upload.end();
    expect(await answered).toBe(200);
    await eventually(() => collections.length === 2, 'the young and then the full collection', 15_000);
    expect(collections).toEqual(['young', 'full']);
  });
});
