// One valid call per contract command and a way to make every event fire:
// the tables that prove each transport carries the whole contract. A new
// command fails to compile until it has a sample here.
import type { BurrowApi, CommandName } from '../../src/shared/contract.js';

export const contractSampleCalls: Record<CommandName, (api: BurrowApi, ctx: { id: string }) => Promise<unknown>> = {
  // The table's order matters: create before update, enable and remove.
  createTunnel: async (api, ctx) => (ctx.id = (await api.createTunnel({ name: `t${Math.random().toString(36).slice(2, 8)}`, protocol: 'http', target: '3000', enabled: false })).id),
  listTunnels: (api) => api.listTunnels(undefined),
  updateTunnel: (api, ctx) => api.updateTunnel({ id: ctx.id, target: '3001' }),
  setTunnelEnabled: (api, ctx) => api.setTunnelEnabled({ id: ctx.id, enabled: false }),
  removeTunnel: (api, ctx) => api.removeTunnel({ id: ctx.id }),
  getSettings: (api) => api.getSettings(undefined),
  updateSettings: (api) => api.updateSettings({ token: 'changed' }),
  getAgentStatus: (api) => api.getAgentStatus(undefined),
  getEmbeddedServer: (api) => api.getEmbeddedServer(undefined),
  startEmbeddedServer: (api) => api.startEmbeddedServer(undefined),
  stopEmbeddedServer: (api) => api.stopEmbeddedServer(undefined),
  listRequests: (api) => api.listRequests({}),
  getRequestDetail: (api) => api.getRequestDetail({ requestId: 'none' }),
  clearTraffic: (api) => api.clearTraffic(undefined),
  getStats: (api) => api.getStats(undefined),
};

/** Commands that make every event fire at least once (stats tick by themselves each second). */
export async function triggerEveryEvent(api: BurrowApi): Promise<void> {
  await api.createTunnel({ name: `evt${Math.random().toString(36).slice(2, 8)}`, protocol: 'http', target: '3000', enabled: false }); // tunnels
  await api.updateSettings({ token: `new${Math.random()}` }); // agentStatus (the agent restarts)
  await api.startEmbeddedServer(undefined); // embeddedServer
  await api.stopEmbeddedServer(undefined);
  await api.clearTraffic(undefined); // traffic (a cleared batch)
}
