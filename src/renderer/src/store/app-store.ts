// The UI's one store: what the contract's events and snapshots say, plus
// what the user picked (view, filter, selected request). Pure state and
// reducers; wiring to a transport lives in connect-store.ts.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
  AgentStatus,
  AppEvents,
  AppView,
  ConnectionLog,
  EmbeddedServerStatus,
  RequestDetail,
  RequestSummary,
  Settings,
  StatsSnapshot,
  TunnelView,
} from '../../../shared/contract.js';
import type { TrafficProtocol } from '../../../shared/traffic.js';
import { isConnectionEvent, isRoundTrip, isThroughputPoint, validTrafficBatch } from './payload-guards.js';
import { emptyRequestList, mergeRequests, removeRequests, type RequestList } from './request-list.js';
import { matchesStatusFilter, outcomeSearchText, type StatusFilter } from './request-outcome.js';
import { newestFirst, type RequestSort } from './request-sort.js';
import { appendTick, emptySeries, seriesFromSnapshot, type ThroughputSeries } from './throughput-series.js';

export type ViewName = AppView;

export interface RequestFilter {
  tunnel: string;
  protocol: TrafficProtocol | '';
  /** '' any, '2xx'..'5xx', 'in-flight' or 'error'. */
  status: StatusFilter;
  text: string;
}

export const noFilter: RequestFilter = { tunnel: '', protocol: '', status: '', text: '' };

export interface StoreLimits {
  maxRequests: number;
  /** One point a second: 300 is five minutes. */
  maxPoints: number;
  /** Connection timeline entries and round trips kept (as the service keeps). */
  maxConnectionEvents: number;
}

export const defaultStoreLimits: StoreLimits = { maxRequests: 5_000, maxPoints: 300, maxConnectionEvents: 500 };

export interface AppState {
  /** The UI's link to burrow: 'lost' while it reconnects, 'failed' when it cannot (a wrong token). */
  connection: { state: 'connecting' | 'open' | 'lost' | 'failed'; error?: string };
  view: ViewName;
  agent?: AgentStatus;
  tunnels: readonly TunnelView[];
  embedded?: EmbeddedServerStatus;
  settings?: Settings;
  requests: RequestList;
  /** Malformed payloads seen and ignored. */
  droppedPayloads: number;
  throughput: ThroughputSeries;
  connectionLog: ConnectionLog;
  filter: RequestFilter;
  sort: RequestSort;
  selectedId?: string;
  detail?: RequestDetail | null;
}

export interface AppActions {
  setConnection(connection: AppState['connection']): void;
  setView(view: ViewName): void;
  setAgent(agent: AgentStatus): void;
  setTunnels(tunnels: readonly TunnelView[]): void;
  setEmbedded(embedded: EmbeddedServerStatus): void;
  setSettings(settings: Settings): void;
  /** A `traffic` event, unvalidated: whatever crossed the transport. */
  applyTraffic(payload: unknown): void;
  /** The list loaded on connect; live updates already applied win over it. */
  applyRequestSnapshot(summaries: readonly RequestSummary[]): void;
  applyStatsTick(payload: unknown): void;
  applyStatsSnapshot(snapshot: StatsSnapshot): void;
  /** A `connectionEvent` or `roundTrip` event, unvalidated. */
  applyConnectionEvent(payload: unknown): void;
  applyRoundTrip(payload: unknown): void;
  /** The log loaded on connect; entries that arrived live since stay. */
  applyConnectionSnapshot(log: ConnectionLog): void;
  setFilter(filter: Partial<RequestFilter>): void;
  setSort(sort: RequestSort): void;
  select(requestId: string | undefined): void;
  setDetail(detail: RequestDetail | null): void;
}

export type AppStore = StoreApi<AppState & AppActions>;

export function createAppStore(limits: StoreLimits = defaultStoreLimits): AppStore {
  return createStore<AppState & AppActions>()((set) => ({
    connection: { state: 'connecting' },
    view: 'tunnels',
    tunnels: [],
    requests: emptyRequestList,
    droppedPayloads: 0,
    throughput: emptySeries,
    connectionLog: { events: [], roundTrips: [] },
    filter: noFilter,
    sort: newestFirst,

    setConnection: (connection) => set({ connection }),
    setView: (view) => set({ view }),
    setAgent: (agent) => set({ agent }),
    setTunnels: (tunnels) => set({ tunnels }),
    setEmbedded: (embedded) => set({ embedded }),
    setSettings: (settings) => set({ settings }),
    applyTraffic: (payload) =>
      set((state) => {
        const { batch, dropped } = validTrafficBatch(payload);
        // Evicted rows go too, but a detail open on one stays as it was fetched.
        const base = batch.cleared ? emptyRequestList : removeRequests(state.requests, [...(batch.removed ?? []), ...(batch.evicted ?? [])]);
        const selectionGone = batch.cleared || (state.selectedId !== undefined && batch.removed?.includes(state.selectedId) === true);
        return {
          requests: mergeRequests(base, batch.updated, limits.maxRequests),
          droppedPayloads: state.droppedPayloads + dropped,
          ...(selectionGone && { selectedId: undefined, detail: undefined }),
        };
      }),
    applyRequestSnapshot: (summaries) => set((state) => ({ requests: mergeRequests(state.requests, summaries, limits.maxRequests) })),
    applyStatsTick: (payload) =>
      set((state) => {
        if (!isThroughputPoint(payload) || typeof (payload as Partial<AppEvents['stats']>).perTunnel !== 'object') {
          return { droppedPayloads: state.droppedPayloads + 1 };
        }
        return { throughput: appendTick(state.throughput, payload as AppEvents['stats'], limits.maxPoints) };
      }),
    applyStatsSnapshot: (snapshot) => set({ throughput: seriesFromSnapshot(snapshot, limits.maxPoints) }),
    applyConnectionEvent: (payload) =>
      set((state) =>
        isConnectionEvent(payload)
          ? { connectionLog: { ...state.connectionLog, events: bounded([...state.connectionLog.events, payload], limits.maxConnectionEvents) } }
          : { droppedPayloads: state.droppedPayloads + 1 },
      ),
    applyRoundTrip: (payload) =>
      set((state) =>
        isRoundTrip(payload)
          ? { connectionLog: { ...state.connectionLog, roundTrips: bounded([...state.connectionLog.roundTrips, payload], limits.maxConnectionEvents) } }
          : { droppedPayloads: state.droppedPayloads + 1 },
      ),
    applyConnectionSnapshot: (log) =>
      set((state) => {
        // Live entries newer than the snapshot's last one were not in it.
        const since = (list: readonly { at: number }[]): number => list.at(-1)?.at ?? -1;
        const events = [...log.events, ...state.connectionLog.events.filter((e) => e.at > since(log.events))];
        const roundTrips = [...log.roundTrips, ...state.connectionLog.roundTrips.filter((r) => r.at > since(log.roundTrips))];
        return { connectionLog: { events: bounded(events, limits.maxConnectionEvents), roundTrips: bounded(roundTrips, limits.maxConnectionEvents) } };
      }),
    setFilter: (filter) => set((state) => ({ filter: { ...state.filter, ...filter } })),
    setSort: (sort) => set({ sort }),
    select: (selectedId) => set({ selectedId, detail: undefined }),
    setDetail: (detail) => set({ detail }),
  }));
}

/** The requests that pass the filter, newest first. */
/** `deepMatches`: ids whose headers or kept bodies contain the filter text (searched in main; the list holds summaries only). */
export function filteredRequests(requests: RequestList, filter: RequestFilter, deepMatches?: ReadonlySet<string>): RequestSummary[] {
  const text = filter.text.trim().toLowerCase();
  const out: RequestSummary[] = [];
  for (let i = requests.ids.length - 1; i >= 0; i--) {
    const summary = requests.byId.get(requests.ids[i]!)!;
    if (filter.tunnel !== '' && summary.tunnel !== filter.tunnel) continue;
    if (filter.protocol !== '' && summary.protocol !== filter.protocol) continue;
    if (!matchesStatusFilter(summary, filter.status)) continue;
    if (
      text !== '' &&
      !deepMatches?.has(summary.requestId) &&
      !`${summary.requestId} ${summary.method} ${summary.path} ${outcomeSearchText(summary)}`.toLowerCase().includes(text)
    ) {
      continue;
    }
    out.push(summary);
  }
  return out;
}

function bounded<T>(list: T[], max: number): T[] {
  return list.length > max ? list.slice(list.length - max) : list;
}
