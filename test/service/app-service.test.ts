// AppService through the in-process transport, against the real engine:
// the embedded server, demo backends and agent all run here on loopback.
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppService } from '../../src/main/service/app-service.js';
import { inProcessApi } from '../../src/main/service/command-dispatch.js';
import type { BurrowApi, TunnelView } from '../../src/shared/contract.js';
import type { BurrowError } from '../../src/shared/error-codes.js';
import { eventually, eventuallyAsync, publicRequest } from '../helpers/common.js';
import { scratchDirectory } from '../helpers/scratch.js';

const services: AppService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

async function open(settingsPath = join(scratchDirectory('burrow-svc-'), 'settings.json')): Promise<{ service: AppService; api: BurrowApi; settingsPath: string }> {
  const service = await AppService.open({ settingsPath, flushIntervalMs: 20 });
  services.push(service);
  return { service, api: inProcessApi(service), settingsPath };
}

describe('AppService', () => {
  it('runs a tunnel through the embedded server and logs its traffic by request_id', async () => {
    const { api } = await open();
    const embedded = await api.startEmbeddedServer(undefined);
    expect(embedded.running).toBe(true);
    const tunnels: TunnelView[][] = [];
    api.on('tunnels', (list) => tunnels.push(list));
    const created = await api.createTunnel({ name: 'demo', protocol: 'http', target: embedded.demoTargets!.http });
    await eventually(() => tunnels.some((list) => list.some((t) => t.id === created.id && t.status === 'online')), 'the tunnel to come online');
    const online = (await api.listTunnels(undefined)).find((t) => t.id === created.id)!;
    const publicPort = Number(new URL(online.publicUrl!).port);

    const batches: string[] = [];
    api.on('traffic', (batch) => batch.updated.forEach((r) => batches.push(`${r.path}:${r.state}`)));
    const res = await publicRequest({ port: publicPort, host: 'demo.localhost', method: 'POST', path: '/hello', body: 'ping', headers: { 'content-type': 'text/plain' } });
    expect(res.body.toString()).toBe('ping');
    await eventually(() => batches.includes('/hello:done'), 'the request to be logged as done');
    const [summary] = await api.listRequests({});
    expect(summary).toMatchObject({ tunnel: 'demo', method: 'POST', path: '/hello', status: 200, state: 'done' });
    const detail = await api.getRequestDetail({ requestId: summary.requestId });
    expect(Buffer.from(detail!.requestBody.base64, 'base64').toString()).toBe('ping');
    expect(Buffer.from(detail!.responseBody.base64, 'base64').toString()).toBe('ping');

    // Disabling takes the tunnel off the server; the name answers 502 (known, offline).
    await api.setTunnelEnabled({ id: created.id, enabled: false });
    await eventually(() => tunnels.at(-1)?.[0]?.status === 'disabled', 'the tunnel to show as disabled');
    await eventuallyAsync(async () => (await publicRequest({ port: publicPort, host: 'demo.localhost' })).status === 502, 'the server to answer 502');
    const after = await publicRequest({ port: publicPort, host: 'demo.localhost' });
    expect(after.headers['x-burrow-error']).toBe('BURROW_E_TUNNEL_OFFLINE');
    expect(await api.clearTraffic(undefined)).toEqual({ cleared: 1 });
    expect(await api.listRequests({})).toEqual([]);
  });

  it('10,000 requests a second reach the UI as a few bounded batches', async () => {
    const service = await AppService.open({ initial: { settings: { serverAddress: '127.0.0.1:1' } }, flushIntervalMs: 50 });
    services.push(service);
    const batchSizes: number[] = [];
    service.on('traffic', (batch) => batchSizes.push(batch.updated.length));
    const started = Date.now();
    // Ten slices of 1,000 request lifecycles, one slice per 100 ms.
    for (let slice = 0; slice < 10; slice++) {
      for (let i = 0; i < 1_000; i++) {
        const requestId = `r${slice}-${i}`;
        const at = Date.now();
        service.recordTraffic({ kind: 'request-start', requestId, tunnel: 'web', protocol: 'http', method: 'GET', path: '/', headers: [], remoteAddress: '127.0.0.1', at });
        service.recordTraffic({ kind: 'body', requestId, direction: 'to-client', data: Buffer.alloc(100_000), at });
        service.recordTraffic({ kind: 'request-end', requestId, status: 200, bytesIn: 0, bytesOut: 100_000, durationMs: 1, at });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 120));
    const elapsed = Date.now() - started;
    // One flush per interval at most, and never more than the log holds.
    expect(batchSizes.length).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 1);
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(2_000);
    const requests = await service.listRequests({});
    expect(requests).toHaveLength(2_000);
    const detail = await service.getRequestDetail({ requestId: 'r9-999' });
    expect(detail?.responseBody).toMatchObject({ totalBytes: 100_000, truncated: true });
    expect(Buffer.from(detail!.responseBody.base64, 'base64').length).toBe(64 * 1024);
  });

  it('persists tunnels and settings atomically and reloads them', async () => {
    const { api, settingsPath, service } = await open();
    const created = await api.createTunnel({ name: 'web', protocol: 'http', target: '3000', enabled: false });
    await api.updateSettings({ serverAddress: '127.0.0.1:9999', token: 'abc' });
    await service.close();
    const saved = JSON.parse(readFileSync(settingsPath, 'utf8'));
    expect(saved.settings).toMatchObject({ serverAddress: '127.0.0.1:9999', token: 'abc' });
    expect(saved.tunnels).toEqual([{ id: created.id, name: 'web', protocol: 'http', target: '3000', enabled: false }]);
    // No temp files left behind.
    expect(readdirSync(join(settingsPath, '..'))).toEqual(['settings.json']);
    const reopened = await open(settingsPath);
    expect((await reopened.api.listTunnels(undefined)).map((t) => [t.name, t.status])).toEqual([['web', 'disabled']]);
    expect((await reopened.api.getSettings(undefined)).token).toBe('abc');
  });

  it('sets an unreadable settings file aside and starts with defaults', async () => {
    const dir = scratchDirectory('burrow-svc-');
    const settingsPath = join(dir, 'settings.json');
    writeFileSync(settingsPath, '{ not json');
    const logged: string[] = [];
    const service = await AppService.open({ settingsPath, log: (line) => logged.push(line) });
    services.push(service);
    expect(await inProcessApi(service).listTunnels(undefined)).toEqual([]);
    expect(logged.join('\n')).toMatch(/unreadable/);
    expect(readdirSync(dir).some((f) => f.startsWith('settings.json.corrupt-'))).toBe(true);
  });

  // Found by an input audit: on, off, on sent at once left servers listening that nothing held (40 switches: 78 listeners).
  it('switches the embedded server on and off as asked, however quickly, and leaves nothing listening once off', async () => {
    const { api } = await open();
    const listeners = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap').length;
    const before = listeners();
    const switches = Array.from({ length: 8 }, (_, i) => api.updateSettings({ embeddedServer: i % 2 === 0 }));
    await Promise.all(switches);
    expect([(await api.getSettings(undefined)).embeddedServer, (await api.getEmbeddedServer(undefined)).running]).toEqual([false, false]);
    // A listener's handle goes a turn after its close.
    await eventually(() => listeners() <= before, 'no listener left');
    await api.updateSettings({ embeddedServer: true });
    expect((await api.getEmbeddedServer(undefined)).running).toBe(true);
  });

  // A FIFO given as the CA file stopped the whole agent (inspector too) until something wrote to it; it is checked first now.
  // An unusable one was taken, and stopped the agent with every tunnel (inspector audit): it is refused, and nothing changes.
  it('refuses a CA file that cannot be used, saying why, without reading it, and keeps the settings and the agent', async () => {
    const { api } = await open();
    await api.updateSettings({ serverAddress: '127.0.0.1:1' });
    const before = await api.getSettings(undefined);
    await expect(api.updateSettings({ tls: 'verify', caFile: tmpdir() })).rejects.toMatchObject({
      code: 'BURROW_E_INVALID_INPUT',
      message: `cannot use the CA file: ${tmpdir()} is not a file`,
    });
    expect(await api.getSettings(undefined)).toEqual(before);
    expect((await api.getAgentStatus(undefined)).state).not.toBe('closed');
  });

  it('rejects bad input with stable codes and keeps working', async () => {
    const { api } = await open();
    const code = async (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: BurrowError) => e.code);
    expect(await code(api.createTunnel({ name: 'Bad Name', protocol: 'http', target: '3000' }))).toBe('BURROW_E_INVALID_INPUT');
    expect(await code(api.createTunnel({ name: 'ok', protocol: 'ftp' as 'http', target: '3000' }))).toBe('BURROW_E_INVALID_INPUT');
    expect(await code(api.createTunnel({ name: 'ok', protocol: 'http', target: '70000' }))).toBe('BURROW_E_INVALID_INPUT');
    expect(await code(api.setTunnelEnabled({ id: 'nope', enabled: true }))).toBe('BURROW_E_NOT_FOUND');
    expect(await code(api.updateSettings({ serverAddress: 'no-port' }))).toBe('BURROW_E_INVALID_INPUT');
    expect(await code(api.getRequestDetail({ requestId: 42 as unknown as string }))).toBe('BURROW_E_INVALID_INPUT');
    // An inspector audit: a misshapen input cleared the whole log.
    for (const misshapen of ['all', 7, [], { requestids: ['x'] }]) expect(await code(api.clearTraffic(misshapen as never))).toBe('BURROW_E_INVALID_INPUT');
    expect(await api.clearTraffic({})).toEqual({ cleared: 0 });
    await api.createTunnel({ name: 'dup', protocol: 'http', target: '3000', enabled: false });
    expect(await code(api.createTunnel({ name: 'dup', protocol: 'grpc', target: '3001', enabled: false }))).toBe('BURROW_E_CONFLICT');
    expect((await api.listTunnels(undefined)).map((t) => t.name)).toEqual(['dup']);
  });
});
