// What an edge needs from the other edges of its cluster, whatever holds
// the shared state (Redis in `burrow server --cluster`): cluster-wide tunnel
// name claims, cluster-wide rate limits, and the list of live edges. The
// single process needs none of it.

/** Who holds a name: one agent (by its id) under one token (by its label). */
export interface ClaimOwner {
  agentId: string;
  tokenLabel: string;
}

/** The edges that serve a tunnel, and what kind of tunnel it is. */
export interface NameHolders {
  /** ProtocolType of the tunnel (HTTP or gRPC). */
  protocol: number;
  edges: EdgeRecord[];
}

export type ClaimOutcome = { ok: true } | { ok: false; code: string; message: string };

export type ClusterRateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface EdgeRecord {
  /** How agents and other edges reach it (its control port): also its id. */
  advertise: string;
  /** Its public port, on the advertised host. */
  publicPort: number;
  /** Unix ms of its start. */
  since: number;
}

export interface EdgeClusterEvents {
  /** The shared state became reachable, or stopped being so (with why). */
  reachability: [reachable: boolean, detail: string];
  /** A name this edge serves was found held by another agent (after the shared state was lost and came back). */
  'claim-lost': [name: string, owner: ClaimOwner];
  /** The live edges changed (one came, or one's lease ran out). */
  edges: [edges: readonly EdgeRecord[]];
}

export interface EdgeCluster {
  /** This edge, as the others see it (its advertised address; known once joined). */
  readonly self: string;
  /** The shared state is reachable: names can be claimed. */
  readonly reachable: boolean;
  /** Joins the cluster (announces this edge, as its control address unless told another; its lease is kept until leave()). */
  join(bound: { control: string; publicPort: number }): Promise<void>;
  leave(): Promise<void>;
  /** Claims `name` for `owner`'s tunnel of `protocol` (a ProtocolType) on this edge; refused when another agent holds it on any live edge. */
  claim(name: string, owner: ClaimOwner, protocol: number): Promise<ClaimOutcome>;
  /** The other live edges serving `name`; undefined when nobody does, 'unknown' when the shared state cannot say (out of reach, not yet reached). */
  holders(name: string): Promise<NameHolders | undefined | 'unknown'>;
  /** A secret every edge of the cluster shares (known once joined): edges prove a forwarded request is theirs with it. */
  readonly edgeSecret: string;
  /** This edge no longer serves `name` for `owner` (the name is free once no edge does). */
  release(name: string, owner: ClaimOwner): Promise<void>;
  /** One request of `perSecond` allowed to `name` across all edges; undefined when the shared state cannot say (the edge decides alone). */
  takeRate(name: string, perSecond: number): Promise<ClusterRateDecision | undefined>;
  /** The live edges (this one included). */
  edges(): Promise<EdgeRecord[]>;
  /** The live edges as last seen (refreshed with this edge's lease), for agents' Welcome. */
  readonly lastSeenEdges: readonly EdgeRecord[];
  on<E extends keyof EdgeClusterEvents>(event: E, listener: (...args: EdgeClusterEvents[E]) => void): this;
}
