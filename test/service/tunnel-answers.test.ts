// A request the tunnel answered itself (the local service refused it, or it
// timed out): the inspector and HAR show the answer its client got, status,
// headers and body, as for any other; they showed none.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AppService } from '../../src/main/service/app-service.js';
import { inProcessApi } from '../../src/main/service/command-dispatch.js';
import { ErrorCode } from '../../src/shared/error-codes.js';
import type { BurrowApi } from '../../src/shared/contract.js';
import { closedPort, eventually, eventuallyAsync, publicRequest, startBackend } from '../helpers/common.js';

const services: AppService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

/** The app with one tunnel, named `name`, to `target`, online through its embedded server; its public port. */
async function openWithTunnel(name: string, target: string): Promise<{ api: BurrowApi; publicPort: number }> {
  const service = await AppService.open({ flushIntervalMs: 20 });
  services.push(service);
  const api = inProcessApi(service);
  await api.startEmbeddedServer(undefined);
  const created = await api.createTunnel({ name, protocol: 'http', target });
  let publicUrl: string | undefined;
  api.on('tunnels', (list) => (publicUrl = list.find((t) => t.id === created.id && t.status === 'online')?.publicUrl ?? publicUrl));
  await eventually(() => publicUrl !== undefined, 'the tunnel to come online');
  return { api, publicPort: Number(new URL(publicUrl!).port) };
}

async function failedRequestId(api: BurrowApi): Promise<string> {
  let requestId = '';
  await eventuallyAsync(async () => {
    requestId = (await api.listRequests({})).find((r) => r.state === 'error')?.requestId ?? '';
    return requestId !== '';
  }, 'the request to be logged as failed');
  return requestId;
}

describe('a request the tunnel answered', () => {
  it('shows the answer its client got, in the detail and in HAR', async () => {
    const { api, publicPort } = await openWithTunnel('down', String(await closedPort()));
    const answer = await publicRequest({ port: publicPort, host: 'down.localhost', path: '/nobody-home' });
    expect(answer.status).toBe(502);
    const requestId = await failedRequestId(api);
    const detail = (await api.getRequestDetail({ requestId }))!;
    expect(detail.status).toBe(502);
    const shown = Object.fromEntries(detail.responseHeaders.map(([name, value]) => [name, value]));
    expect(shown).toMatchObject({ 'x-burrow-error': answer.headers['x-burrow-error'], 'content-type': answer.headers['content-type'], 'content-length': answer.headers['content-length'] });
    expect(Buffer.from(detail.responseBody.base64, 'base64').toString()).toBe(answer.body.toString());

    const har = await api.exportHar({ requestIds: [requestId] });
    const { response } = har.log.entries[0]!;
    const text = Buffer.from(response.content.text ?? '', response.content.encoding === 'base64' ? 'base64' : 'utf8').toString();
    expect({ status: response.status, text }).toEqual({ status: 502, text: answer.body.toString() });
    expect(response.headers).toContainEqual({ name: 'x-burrow-error', value: answer.headers['x-burrow-error'] });
  });

  it('shows no answer when its client left before one', async () => {
    let arrived = false;
    // Never answers: the client leaves first.
    const backend = await startBackend(() => (arrived = true));
    try {
      const { api, publicPort } = await openWithTunnel('slow', String(backend.port));
      const client = request({ host: '127.0.0.1', port: publicPort, path: '/', headers: { host: 'slow.localhost' } });
      client.on('error', () => {});
      client.end();
      await eventually(() => arrived, 'the request to reach the service');
      // A reset, not a close: a client that only half-closes still gets its answer (public-listener.ts).
      client.socket?.resetAndDestroy();
      const detail = (await api.getRequestDetail({ requestId: await failedRequestId(api) }))!;
      expect(detail.error?.code).toBe(ErrorCode.ClientGone);
      expect(detail.responseHeaders).toEqual([]);
    } finally {
      await backend.close();
    }
  });
});
