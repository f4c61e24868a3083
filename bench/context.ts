// What every scenario gets: where the backend is directly, through the
// tunnel, (with --frp) through frp, through the minimal Node proxy's two
// hops and (in its own scenario) the smallest multiplexed Node tunnel, the
// PIDs to watch, and how long to run.
/** The sides Burrow is compared with round by round, each with columns of its own. */
export const comparedSides = ['frp', 'node', 'mux'] as const;
export type ComparedSide = (typeof comparedSides)[number];

export interface Target {
  label: 'direct' | 'tunnel' | ComparedSide;
  port: number;
  /** Host header for HTTP and WebSocket. */
  host: string;
  /** host:port to dial for gRPC, and the authority to send. */
  grpcAddress: string;
  grpcAuthority?: string;
}

export interface BenchContext {
  direct: Target;
  tunnel: Target;
  /** frp's HTTP proxy to the same backend, when the run was given --frp. */
  frp?: Target;
  /** The minimal Node proxy's two hops (bench/minimal-proxy.mjs) to the same backend: the floor of a Node tunnel, in the same rounds. */
  node?: Target;
  /** The smallest multiplexed Node tunnel's two hops (bench/minimal-multiplexed-proxy.mjs): set only in the proxy scenario's own rounds. */
  mux?: Target;
  pids: { server: number; agent: number; frpServer?: number; frpAgent?: number; nodePublic?: number; nodeService?: number };
  quick: boolean;
  /** One progress line. */
  say(line: string): void;
}

/** A figure for the table: direct and tunnel side by side. */
export interface Figure {
  scenario: string;
  unit: string;
  direct?: number;
  tunnel?: number;
  frp?: number;
  node?: number;
  mux?: number;
  /** False where the two columns are not direct vs tunnel (server / agent RSS): no tunnel/direct ratio. */
  ratio?: boolean;
  /** Burrow / frp in each round where both were measured in the same rounds; the table shows their median and range. */
  frpRatios?: number[];
  /** Burrow / the minimal Node proxy's two hops, round by round, likewise. */
  nodeRatios?: number[];
  /** Burrow / the smallest multiplexed Node tunnel, likewise. */
  muxRatios?: number[];
  /** Anything else worth keeping (latencies, RSS, tool). */
  extra?: Record<string, number | string>;
}
