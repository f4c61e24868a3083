// One valid call per contract command with the answer it must give, and a
// way to make every event fire: the tables that prove each transport carries
// the whole contract, answers included. A new command fails to compile until
// it has a sample here. Run against a fresh AppService whose server address
// is 127.0.0.1:1 and whose embedded server is off.
import { expect } from 'vitest';
import type { BurrowApi, CommandName } from '../../src/shared/contract.js';

export interface SampleContext {
  /** The tunnel the samples create, then change and remove. */
  id: string;
  name: string;
}

export function sampleContext(): SampleContext {
  return { id: '', name: `t${Math.random().toString(36).slice(2, 8)}` };
}

interface Sample {
  call(api: BurrowApi, ctx: SampleContext): Promise<unknown>;
  /** What the answer must equal (asymmetric matchers where it depends on the moment). */
  answer(ctx: SampleContext): unknown;
}

const tunnel = (ctx: SampleContext, target: string): unknown => ({ id: ctx.id, name: ctx.name, protocol: 'http', target, enabled: false, status: 'disabled' });

export const contractSamples: Record<CommandName, Sample> = {
  // The table's order matters: create before update, enable and remove.
  createTunnel: {
    call: async (api, ctx) => {
      const view = await api.createTunnel({ name: ctx.name, protocol: 'http', target: '3000', enabled: false });
      ctx.id = view.id;
      return view;
    },
    answer: (ctx) => tunnel(ctx, '3000'),
  },
  listTunnels: { call: (api) => api.listTunnels(undefined), answer: (ctx) => [tunnel(ctx, '3000')] },
  updateTunnel: { call: (api, ctx) => api.updateTunnel({ id: ctx.id, target: '3001' }), answer: (ctx) => tunnel(ctx, '3001') },
  setTunnelEnabled: { call: (api, ctx) => api.setTunnelEnabled({ id: ctx.id, enabled: false }), answer: (ctx) => tunnel(ctx, '3001') },
  removeTunnel: { call: (api, ctx) => api.removeTunnel({ id: ctx.id }), answer: () => ({ removed: true }) },
  getSettings: { call: (api) => api.getSettings(undefined), answer: () => expect.objectContaining({ serverAddress: '127.0.0.1:1', embeddedServer: false }) },
  updateSettings: { call: (api) => api.updateSettings({ token: 'changed' }), answer: () => expect.objectContaining({ serverAddress: '127.0.0.1:1', token: 'changed' }) },
  getAgentStatus: {
    call: (api) => api.getAgentStatus(undefined),
    // Nothing listens there: the agent is connecting or waiting to retry, whichever the moment.
    answer: () => ({ state: expect.stringMatching(/^(connecting|backoff)$/), detail: expect.any(String), server: '127.0.0.1:1' }),
  },
  getEmbeddedServer: { call: (api) => api.getEmbeddedServer(undefined), answer: () => ({ running: false }) },
  startEmbeddedServer: {
    call: (api) => api.startEmbeddedServer(undefined),
    answer: () => ({
      running: true,
      controlAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      publicBaseUrl: expect.stringMatching(/^http:\/\/\*\.localhost:\d+$/),
      demoTargets: { http: expect.stringMatching(/^127\.0\.0\.1:\d+$/), websocket: expect.stringMatching(/^127\.0\.0\.1:\d+$/), grpc: expect.stringMatching(/^127\.0\.0\.1:\d+$/) },
    }),
  },
  stopEmbeddedServer: { call: (api) => api.stopEmbeddedServer(undefined), answer: () => ({ running: false }) },
  listRequests: { call: (api) => api.listRequests({}), answer: () => [] },
  getRequestDetail: { call: (api) => api.getRequestDetail({ requestId: 'none' }), answer: () => null },
  clearTraffic: { call: (api) => api.clearTraffic(undefined), answer: () => ({ cleared: 0 }) },
  searchRequests: { call: (api) => api.searchRequests({ text: 'anything' }), answer: () => ({ requestIds: [] }) },
  getStats: { call: (api) => api.getStats(undefined), answer: () => ({ total: expect.any(Array), perTunnel: {} }) },
  exportHar: { call: (api) => api.exportHar({}), answer: () => ({ log: { version: '1.2', creator: { name: 'Burrow', version: expect.any(String) }, entries: [] } }) },
  importHar: {
    call: async (api) => {
      const entry = { startedDateTime: '2026-11-30T12:00:00.000Z', time: 1, request: { method: 'GET', url: 'http://a.localhost/x', headers: [] }, response: { status: 200, headers: [], content: { size: 0, mimeType: 'text/plain' } } };
      const report = await api.importHar({ text: JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '1' }, entries: [entry, { request: {} }] } }) });
      // Leave the log as found, for the next transport's run.
      await api.clearTraffic(undefined);
      return report;
    },
    answer: () => ({ imported: 1, skipped: ['entry 2: no request method and URL'] }),
  },
  replayRequest: {
    call: (api) => api.replayRequest({ requestId: 'none' }).catch((error: { code?: string }) => ({ code: error.code })),
    answer: () => ({ code: 'BURROW_E_NOT_FOUND' }),
  },
  getBody: {
    call: (api) => api.getBody({ requestId: 'none', side: 'response' }).catch((error: { code?: string }) => ({ code: error.code })),
    answer: () => ({ code: 'BURROW_E_NOT_FOUND' }),
  },
  decodeGrpcMessages: {
    call: (api) => api.decodeGrpcMessages({ requestId: 'none' }).catch((error: { code?: string }) => ({ code: error.code })),
    answer: () => ({ code: 'BURROW_E_NOT_FOUND' }),
  },
  loadGrpcSchema: {
    call: (api, ctx) =>
      api.loadGrpcSchema({ tunnel: ctx.name, fileName: 'hello.proto', base64: Buffer.from('syntax = "proto3"; package hi; message M {} service Hello { rpc Say(M) returns (M); }').toString('base64') }),
    answer: () => ({ fileName: 'hello.proto', services: ['hi.Hello'] }),
  },
  requestSnippet: {
    // No traffic yet: the answer is the error, with its code, through every transport.
    call: (api) => api.requestSnippet({ requestId: 'none', target: 'curl' }).catch((error: { code?: string }) => ({ code: error.code })),
    answer: () => ({ code: 'BURROW_E_NOT_FOUND' }),
  },
  sendWebSocketMessage: {
    call: (api) => api.sendWebSocketMessage({ requestId: 'none', to: 'service', text: 'hi' }).catch((error: { code?: string }) => ({ code: error.code })),
    answer: () => ({ code: 'BURROW_E_NOT_FOUND' }),
  },
  getMessageData: {
    call: (api) => api.getMessageData({ requestId: 'none', direction: 'to-client', index: 0 }).catch((error: { code?: string }) => ({ code: error.code })),
    answer: () => ({ code: 'BURROW_E_NOT_FOUND' }),
  },
  searchMessages: {
    call: (api) => api.searchMessages({ requestId: 'none', text: 'x' }).catch((error: { code?: string }) => ({ code: error.code })),
    answer: () => ({ code: 'BURROW_E_NOT_FOUND' }),
  },
  exportMessages: {
    call: (api) => api.exportMessages({ requestId: 'none' }).catch((error: { code?: string }) => ({ code: error.code })),
    answer: () => ({ code: 'BURROW_E_NOT_FOUND' }),
  },
  importTunnels: {
    call: async (api, ctx) => {
      const report = await api.importTunnels({ fileName: 'frpc.toml', text: `[[proxies]]\nname = "${ctx.name}-i"\ntype = "http"\nlocalPort = 3002\n\n[[proxies]]\nname = "ssh"\ntype = "tcp"\nlocalPort = 22\n` });
      // Leave the service as found, for the next transport's run.
      for (const tunnel of report.created) await api.removeTunnel({ id: tunnel.id });
      return report;
    },
    answer: (ctx) => ({
      kind: 'frpc-toml',
      created: [{ id: expect.any(String), name: `${ctx.name}-i`, protocol: 'http', target: '127.0.0.1:3002', enabled: false, status: 'disabled' }],
      notMapped: [{ what: 'ssh', why: 'a tcp proxy: Burrow tunnels HTTP, WebSocket and gRPC' }],
    }),
  },
  getConnectionLog: {
    call: (api) => api.getConnectionLog(undefined),
    // The agent has been trying the address where nothing listens.
    answer: () => ({ events: expect.arrayContaining([expect.objectContaining({ kind: 'connecting', server: '127.0.0.1:1' })]), roundTrips: [] }),
  },
};

/** Runs every sample in order on `api`, checking each answer. */
export async function expectEverySampleAnswered(api: BurrowApi, label: string): Promise<void> {
  const ctx = sampleContext();
  for (const [name, sample] of Object.entries(contractSamples) as [CommandName, Sample][]) {
    expect(await sample.call(api, ctx), `${label} ${name}`).toEqual(sample.answer(ctx));
  }
}

/** Commands that make every event fire at least once (stats tick by themselves each second); showView is main's to send. */
export async function triggerEveryEvent(api: BurrowApi, service: { showView(view: 'inspector'): void }): Promise<void> {
  service.showView('inspector'); // showView
  await api.createTunnel({ name: `evt${Math.random().toString(36).slice(2, 8)}`, protocol: 'http', target: '3000', enabled: false }); // tunnels
  await api.updateSettings({ token: `new${Math.random()}` }); // agentStatus and connectionEvent (the agent restarts)
  await api.startEmbeddedServer(undefined); // embeddedServer
  // roundTrip: the agent connects to the local test server and measures its first heartbeat.
  await expect.poll(async () => (await api.getConnectionLog(undefined)).roundTrips.length, { timeout: 20_000 }).toBeGreaterThan(0);
  await api.stopEmbeddedServer(undefined);
  await api.clearTraffic(undefined); // traffic (a cleared batch)
}
