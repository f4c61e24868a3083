// The cluster's shared state in Redis (through ioredis): the live edges with
// leases, tunnel name claims and rate-limit buckets, under one key prefix per
// domain. While Redis is out of reach, what needs it fails at once with a
// clear error (no command waits in a queue), the edge keeps serving what it
// holds, and when Redis is back the edge announces itself and re-claims
// every name it serves.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { ErrorCode } from '../tunnel/errors.js';
import type { ClaimOutcome, ClaimOwner, ClusterRateDecision, EdgeCluster, EdgeClusterEvents, EdgeRecord, NameHolders } from '../tunnel/server/edge-cluster.js';
import { announceEdge, claimName, nameHolders, releaseName, takeToken } from './redis-scripts.js';

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
  claimName(claim: string, edges: string, owner: string, advertise: string, ttlMs: number, protocol: number, leaseMs: number): Promise<[1] | [0, string, string]>;
  nameHolders(claim: string, edges: string, leaseMs: number): Promise<string[]>;
  releaseName(claim: string, owner: string, advertise: string): Promise<number>;
  takeToken(bucket: string, perSecond: number): Promise<[number, number]>;
}

/** How long who-serves-a-name is taken as known without asking Redis again. */
const holdersCacheMs = 500;

/** A claim outlives edge leases by far: edges refresh it; a dead edge's part is judged by its lease. */
const claimTtlMs = 10 * 60_000;

export class RedisEdgeCluster extends EventEmitter<EdgeClusterEvents> implements EdgeCluster {
  private selfValue: string;
  private readonly redis: Redis & ClusterCommands;
  private readonly prefix: string;
  private readonly leaseMs: number;
  /** Names this edge serves, by owner and protocol: refreshed with the lease, re-claimed after an outage. */
  private readonly held = new Map<string, { owner: ClaimOwner; protocol: number }>();
  /** Who serves a name, as last asked: forwarded requests come in bursts. */
  private readonly holdersCache = new Map<string, { at: number; holders: NameHolders | undefined }>();
  private secret = '';
  private record: EdgeRecord | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reachableValue = false;
  private reachableSince = 0;
  /** Between leave() and the next join(): Redis going away is our own goodbye, nothing to warn of. */
  private leaving = false;
  private seen: readonly EdgeRecord[] = [];

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
    this.redis.defineCommand('nameHolders', { numberOfKeys: 2, lua: nameHolders });
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
    this.leaving = false;
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
      await Promise.allSettled([...this.held].map(([name, { owner }]) => this.redis.releaseName(this.key('claim', name), ownerKey(owner), this.self)));
      await this.redis.zrem(this.key('edges'), this.self).catch(() => undefined);
      await this.redis.hdel(this.key('edge-info'), this.self).catch(() => undefined);
    }
    this.held.clear();
    this.leaving = true;
    this.redis.disconnect();
  }

  get edgeSecret(): string {
    return this.secret;
  }

  async claim(name: string, owner: ClaimOwner, protocol: number): Promise<ClaimOutcome> {
    try {
      const answer = await this.redis.claimName(this.key('claim', name), this.key('edges'), ownerKey(owner), this.self, claimTtlMs, protocol, this.leaseMs);
      if (answer[0] === 1) {
        this.held.set(name, { owner, protocol });
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

  async holders(name: string): Promise<NameHolders | undefined | 'unknown'> {
    const cached = this.holdersCache.get(name);
    if (cached !== undefined && Date.now() - cached.at < holdersCacheMs) return cached.holders;
    // Redis back from an outage, empty perhaps: until every edge has claimed its names again, what was known stands.
    if (cached?.holders !== undefined && Date.now() - this.reachableSince < this.leaseMs) return cached.holders;
    let holders: NameHolders | undefined;
    try {
      const [protocol, ...edges] = await this.redis.nameHolders(this.key('claim', name), this.key('edges'), this.leaseMs);
      const others = edges.filter((edge) => edge !== this.self);
      // An edge newer than the last look at the edge list: look again.
      if (others.some((edge) => !this.seen.some((seen) => seen.advertise === edge))) await this.edges();
      const records = others.flatMap((edge) => this.seen.find((seen) => seen.advertise === edge) ?? []);
      holders = protocol === undefined || records.length === 0 ? undefined : { protocol: Number(protocol), edges: records };
    } catch {
      // Redis out of reach: the edges last known to hold it still do, most likely (a dead one is passed over); never looked at, nobody can say.
      return cached === undefined ? 'unknown' : cached.holders;
    }
    if (this.holdersCache.size > 10_000 && !this.holdersCache.has(name)) this.holdersCache.clear();
    this.holdersCache.set(name, { at: Date.now(), holders });
    return holders;
  }

  async takeRate(name: string, perSecond: number): Promise<ClusterRateDecision | undefined> {
    try {
      const [allowed, waitMs] = await this.redis.takeToken(this.key('rate', name), perSecond);
      return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    } catch {
      return undefined;
    }
  }

  get lastSeenEdges(): readonly EdgeRecord[] {
    return this.seen;
  }

  async edges(): Promise<EdgeRecord[]> {
    // Leases are judged on Redis's clock, as the scripts judge them.
    const [seconds, micros] = await this.redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const [byLease, info] = await Promise.all([this.redis.zrangebyscore(this.key('edges'), now, '+inf'), this.redis.hgetall(this.key('edge-info'))]);
    // In a stable order: ordered by lease end, they would seem to change at every renewal.
    const live = byLease.sort();
    const before = this.seen.map((edge) => edge.advertise).join(',');
    this.seen = live.flatMap((advertise) => {
      const json = info[advertise];
      return json === undefined ? [] : [JSON.parse(json) as EdgeRecord];
    });
    if (this.seen.map((edge) => edge.advertise).join(',') !== before) this.emit('edges', this.seen);
    return [...this.seen];
  }

  private async announce(): Promise<void> {
    if (this.record === undefined) return;
    // The first edge makes it and every other one reads the same; after Redis lost it, edges that knew it put it back.
    await this.redis.set(this.key('edge-secret'), this.secret || randomBytes(32).toString('hex'), 'NX');
    this.secret = (await this.redis.get(this.key('edge-secret'))) ?? this.secret;
    await this.redis.announceEdge(this.key('edges'), this.key('edge-info'), this.self, this.leaseMs, JSON.stringify(this.record));
  }

  /** Keeps this edge's lease and its claims alive; a claim found held by another agent is lost. */
  private async refresh(): Promise<void> {
    if (!this.reachable) return;
    try {
      await this.announce();
      await this.edges();
      // All at once: ioredis sends them without waiting for each answer.
      await Promise.all(
        [...this.held].map(async ([name, { owner, protocol }]) => {
          const outcome = await this.claim(name, owner, protocol);
          if (!outcome.ok && outcome.code === ErrorCode.NameTaken) {
            this.held.delete(name);
            this.emit('claim-lost', name, owner);
          }
        }),
      );
    } catch {
      // Unreachable again: 'close' says so, and 'ready' refreshes.
    }
  }

  private reachabilityChanged(reachable: boolean, detail: string): void {
    if (reachable === this.reachableValue) return;
    this.reachableValue = reachable;
    if (reachable) this.reachableSince = Date.now();
    if (this.leaving) return;
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
