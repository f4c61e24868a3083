// The cluster's shared state in Redis (through ioredis): the live edges with
// leases, tunnel name claims and rate-limit buckets, under one key prefix per
// domain. While Redis is out of reach, what needs it fails at once with a
// clear error (no command waits in a queue), the edge keeps serving what it
// holds, and when Redis is back the edge announces itself and re-claims
// every name it serves.
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { ErrorCode } from '../tunnel/errors.js';
import type { ClaimOutcome, ClaimOwner, ClusterRateDecision, EdgeCluster, EdgeClusterEvents, EdgeRecord } from '../tunnel/server/edge-cluster.js';
import { announceEdge, claimName, releaseName, takeToken } from './redis-scripts.js';

export interface RedisEdgeClusterOptions {
  /** redis://HOST:PORT[/DB] */
  url: string;
  /** This edge's advertised address (its control port, as others reach it); its bound control address when absent. */
  advertise?: string;
  /** The domain served: edges of one domain share state, others sharing the Redis do not. */
  domain: string;
  /** An edge unheard of this long is dead: its claims no longer hold names. */
  edgeLeaseMs?: number;
}

interface ClusterCommands {
  announceEdge(edges: string, info: string, advertise: string, leaseMs: number, json: string): Promise<number>;
  claimName(claim: string, edges: string, owner: string, advertise: string, ttlMs: number): Promise<[1] | [0, string, string]>;
  releaseName(claim: string, owner: string, advertise: string): Promise<number>;
  takeToken(bucket: string, perSecond: number): Promise<[number, number]>;
}

/** A claim outlives edge leases by far: edges refresh it; a dead edge's part is judged by its lease. */
const claimTtlMs = 10 * 60_000;

export class RedisEdgeCluster extends EventEmitter<EdgeClusterEvents> implements EdgeCluster {
  private selfValue: string;
  private readonly redis: Redis & ClusterCommands;
  private readonly prefix: string;
  private readonly leaseMs: number;
  /** Names this edge serves, by owner: refreshed with the lease, re-claimed after an outage. */
  private readonly held = new Map<string, ClaimOwner>();
  private record: EdgeRecord | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reachableValue = false;

  constructor(private readonly options: RedisEdgeClusterOptions) {
    super();
    this.selfValue = options.advertise ?? '';
    this.leaseMs = options.edgeLeaseMs ?? 3_000;
    this.prefix = `burrow:${options.domain}:`;
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      // Fail now rather than queue: a request or a registration must not wait for Redis.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2_000,
      commandTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 250, 2_000),
    }) as Redis & ClusterCommands;
    this.redis.defineCommand('announceEdge', { numberOfKeys: 2, lua: announceEdge });
    this.redis.defineCommand('claimName', { numberOfKeys: 2, lua: claimName });
    this.redis.defineCommand('releaseName', { numberOfKeys: 1, lua: releaseName });
    this.redis.defineCommand('takeToken', { numberOfKeys: 1, lua: takeToken });
    this.redis.on('ready', () => this.reachabilityChanged(true, `Redis at ${this.where} is reachable`));
    this.redis.on('close', () => this.reachabilityChanged(false, `Redis at ${this.where} is unreachable`));
    // ioredis reconnects by itself; an error here is also a 'close'.
    this.redis.on('error', () => {});
  }

  get self(): string {
    return this.selfValue;
  }

  get reachable(): boolean {
    return this.reachableValue;
  }

  async join({ control, publicPort }: { control: string; publicPort: number }): Promise<void> {
    this.selfValue ||= control;
    this.record = { advertise: this.self, publicPort, since: Date.now() };
    this.timer = setInterval(() => void this.refresh(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
    try {
      await this.redis.connect();
    } catch {
      // ioredis goes on trying; until it gets through the edge is up but not ready, and says so.
      this.emit('reachability', false, `Redis at ${this.where} is unreachable`);
    }
  }

  async leave(): Promise<void> {
    clearInterval(this.timer);
    if (this.reachable) {
      await Promise.allSettled([...this.held].map(([name, owner]) => this.redis.releaseName(this.key('claim', name), ownerKey(owner), this.self)));
      await this.redis.zrem(this.key('edges'), this.self).catch(() => undefined);
    }
    this.held.clear();
    this.redis.disconnect();
  }

  async claim(name: string, owner: ClaimOwner): Promise<ClaimOutcome> {
    try {
      const answer = await this.redis.claimName(this.key('claim', name), this.key('edges'), ownerKey(owner), this.self, claimTtlMs);
      if (answer[0] === 1) {
        this.held.set(name, owner);
        return { ok: true };
      }
      return { ok: false, code: ErrorCode.NameTaken, message: `tunnel name "${name}" is already in use by another agent (on edge ${answer[2]})` };
    } catch (error) {
      return { ok: false, code: ErrorCode.ClusterUnavailable, message: `cannot claim "${name}" now: ${this.unavailable(error)}` };
    }
  }

  async release(name: string, owner: ClaimOwner): Promise<void> {
    this.held.delete(name);
    // Unreachable: the claim lapses with this edge's lease, or is re-judged when Redis is back.
    await this.redis.releaseName(this.key('claim', name), ownerKey(owner), this.self).catch(() => undefined);
  }

  async takeRate(name: string, perSecond: number): Promise<ClusterRateDecision | undefined> {
    try {
      const [allowed, waitMs] = await this.redis.takeToken(this.key('rate', name), perSecond);
      return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    } catch {
      return undefined;
    }
  }

  async edges(): Promise<EdgeRecord[]> {
    const [live, info] = await Promise.all([this.redis.zrangebyscore(this.key('edges'), Date.now(), '+inf'), this.redis.hgetall(this.key('edge-info'))]);
    return live.flatMap((advertise) => {
      const json = info[advertise];
      return json === undefined ? [] : [JSON.parse(json) as EdgeRecord];
    });
  }

  private async announce(): Promise<void> {
    if (this.record === undefined) return;
    await this.redis.announceEdge(this.key('edges'), this.key('edge-info'), this.self, this.leaseMs, JSON.stringify(this.record));
  }

  /** Keeps this edge's lease and its claims alive; a claim found held by another agent is lost. */
  private async refresh(): Promise<void> {
    if (!this.reachable) return;
    try {
      await this.announce();
      for (const [name, owner] of [...this.held]) {
        const outcome = await this.claim(name, owner);
        if (!outcome.ok && outcome.code === ErrorCode.NameTaken) {
          this.held.delete(name);
          this.emit('claim-lost', name, owner);
        }
      }
    } catch {
      // Unreachable again: 'close' says so, and 'ready' refreshes.
    }
  }

  private reachabilityChanged(reachable: boolean, detail: string): void {
    if (reachable === this.reachableValue) return;
    this.reachableValue = reachable;
    this.emit('reachability', reachable, detail);
    if (reachable && this.record !== undefined) void this.refresh();
  }

  private unavailable(error: unknown): string {
    return this.reachable ? `Redis at ${this.where} failed (${(error as Error).message})` : `Redis at ${this.where} is unreachable; names can be claimed again once it is back`;
  }

  private get where(): string {
    const url = new URL(this.options.url);
    return url.host;
  }

  private key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }
}

function ownerKey({ tokenLabel, agentId }: ClaimOwner): string {
  return `${tokenLabel}/${agentId}`;
}
