// What the app records of the traffic it forwards: the traffic log
// (requests, bodies, messages) pushed to the UI in batches at most every
// flush interval, per-second throughput stats, and the tunnel alerts that
// watch failures. One place the agent's traffic events go.
import type { AppEvents, LocalServiceHealth, RequestDetail, RequestSummary, StatsSnapshot, TrafficBatch } from '../../shared/contract.js';
import type { TrafficEvent } from '../../shared/traffic.js';
import { EndedRequests, type EndedRequest } from './ended-requests.js';
import { LocalServiceHealthTracker } from './local-service-health.js';
import { ThroughputStats } from './throughput-stats.js';
import type { TunnelAlerts } from './tunnel-alerts.js';
import { TrafficLog, defaultTrafficLogLimits, type KeptMessage, type TrafficLogLimits } from './traffic-log.js';

export interface TrafficRecorderOptions {
  limits?: Partial<TrafficLogLimits>;
  /** How often traffic batches are pushed; ≤ 20 per second by default. */
  flushIntervalMs?: number;
  batch(batch: TrafficBatch): void;
  statsTick(tick: AppEvents['stats']): void;
  /** Each request once it has ended (for metrics). */
  ended(request: EndedRequest): void;
  /** A tunnel's local service health changed (a failure, a recovery, failures aging out). */
  healthChanged(): void;
}

export class TrafficRecorder {
  private readonly log: TrafficLog;
  /** How many requests the log keeps: the newest. */
  readonly maxRequests: number;
  private readonly stats = new ThroughputStats();
  private readonly ended: EndedRequests;
  private readonly health = new LocalServiceHealthTracker();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly statsTimer: NodeJS.Timeout;
  private readonly healthTimer: NodeJS.Timeout;

  constructor(
    private readonly options: TrafficRecorderOptions,
    alerts: TunnelAlerts,
  ) {
    const limits = Object.assign({}, defaultTrafficLogLimits, options.limits);
    this.log = new TrafficLog(limits);
    this.maxRequests = limits.maxRequests;
    // One record per ended request feeds the metrics, the alerts and the health view alike.
    this.ended = new EndedRequests((request) => {
      options.ended(request);
      alerts.ended(request);
      if (this.health.ended(request)) options.healthChanged();
    });
    this.flushTimer = setInterval(() => this.flush(), options.flushIntervalMs ?? 50);
    this.statsTimer = setInterval(() => options.statsTick(this.stats.tick(Date.now())), 1_000);
    // Failures leave the one-minute counts as they age, with no traffic to say so.
    this.healthTimer = setInterval(() => this.health.expire() && options.healthChanged(), 5_000);
    this.flushTimer.unref();
    this.statsTimer.unref();
    this.healthTimer.unref();
  }

  record(event: TrafficEvent): void {
    this.log.apply(event);
    this.stats.record(event);
    this.ended.record(event);
  }

  /** Requests from elsewhere (an imported HAR): into the log only, never the stats, metrics or health. */
  addToLog(requests: readonly (readonly TrafficEvent[])[]): void {
    for (const events of requests) for (const event of events) this.log.apply(event);
    this.flush();
  }

  /** How a tunnel's local service is doing, by the name its requests carry; undefined if it never failed. */
  localHealth(tunnel: string): LocalServiceHealth | undefined {
    return this.health.of(tunnel);
  }

  /** Requests in flight now, by tunnel. */
  inFlight(): Map<string, number> {
    return this.ended.inFlight();
  }

  list(limit: number | undefined): RequestSummary[] {
    return this.log.list(limit);
  }

  search(text: string): string[] {
    return this.log.search(text);
  }

  detail(requestId: string): RequestDetail | null {
    return this.log.detail(requestId);
  }

  /** A request's kept messages with their bytes, or null when it is not in the log. */
  keptMessages(requestId: string): readonly KeptMessage[] | null {
    return this.log.keptMessages(requestId);
  }

  /** Forgets these requests, or every one; returns how many, after pushing the batch that says so. */
  clear(requestIds?: readonly string[]): number {
    const cleared = requestIds === undefined ? this.log.clear() : this.log.remove(requestIds);
    this.flush();
    return cleared;
  }

  statsSnapshot(): StatsSnapshot {
    return this.stats.snapshot();
  }

  close(): void {
    clearInterval(this.flushTimer);
    clearInterval(this.statsTimer);
    clearInterval(this.healthTimer);
  }

  private flush(): void {
    const batch = this.log.takeBatch();
    if (batch !== undefined) this.options.batch(batch);
  }
}
