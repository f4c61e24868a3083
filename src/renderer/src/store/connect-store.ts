// Feeds the store from a contract transport: subscribe first, then load the
// snapshots, so nothing that happens in between is missed. The selected
// request's detail is refetched when its summary changes, one fetch at a
// time however fast the updates come.
import type { BurrowApi } from '../../../shared/contract.js';
import type { AppStore } from './app-store.js';

const views = new Set<string>(['tunnels', 'inspector', 'throughput', 'connection', 'settings']);

/** Subscribes the store to every event; loads the snapshots now unless told the link is not up yet (then call loadSnapshots once it is). */
export function connectStore(api: BurrowApi, store: AppStore, options: { loadNow?: boolean } = {}): () => void {
  const s = store.getState();
  const unsubscribers = [
    api.on('agentStatus', s.setAgent),
    api.on('tunnels', s.setTunnels),
    api.on('embeddedServer', s.setEmbedded),
    api.on('traffic', s.applyTraffic),
    api.on('stats', s.applyStatsTick),
    api.on('connectionEvent', s.applyConnectionEvent),
    api.on('roundTrip', s.applyRoundTrip),
    api.on('showView', (view) => views.has(view) && s.setView(view)),
  ];
  const detailRefresher = refreshDetailOnChange(api, store);
  if (options.loadNow !== false) void loadSnapshots(api, store);
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
    detailRefresher();
  };
}

export async function loadSnapshots(api: BurrowApi, store: AppStore): Promise<void> {
  const s = store.getState();
  try {
    const [agent, tunnels, embedded, settings, requests, stats, connectionLog] = await Promise.all([
      api.getAgentStatus(undefined),
      api.listTunnels(undefined),
      api.getEmbeddedServer(undefined),
      api.getSettings(undefined),
      api.listRequests({}),
      api.getStats(undefined),
      api.getConnectionLog(undefined),
    ]);
    s.setAgent(agent);
    s.setTunnels(tunnels);
    s.setEmbedded(embedded);
    s.setSettings(settings);
    s.applyRequestSnapshot(requests);
    s.applyStatsSnapshot(stats);
    s.applyConnectionSnapshot(connectionLog);
    s.setConnection({ state: 'open' });
  } catch (error) {
    s.setConnection({ state: 'failed', error: (error as Error).message });
  }
}

function refreshDetailOnChange(api: BurrowApi, store: AppStore): () => void {
  let fetching = false;
  let again = false;
  const fetchDetail = async (): Promise<void> => {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      do {
        again = false;
        const id = store.getState().selectedId;
        if (id === undefined) break;
        const detail = await api.getRequestDetail({ requestId: id }).catch(() => null);
        if (store.getState().selectedId === id) store.getState().setDetail(detail);
      } while (again);
    } finally {
      fetching = false;
    }
  };
  return store.subscribe((state, previous) => {
    const id = state.selectedId;
    if (id === undefined) return;
    if (id !== previous.selectedId || state.requests.byId.get(id) !== previous.requests.byId.get(id)) void fetchDetail();
  });
}
