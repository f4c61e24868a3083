// What every scenario gets: where the backend is directly, through the
// tunnel and (with --frp) through frp, the PIDs to watch, and how long to run.
export interface Target {
  label: 'direct' | 'tunnel' | 'frp';
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
  pids: { server: number; agent: number; frpServer?: number; frpAgent?: number };
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
  /** False where the two columns are not direct vs tunnel (server / agent RSS): no tunnel/direct ratio. */
  ratio?: boolean;
  /** Burrow / frp in each round where both were measured in the same rounds; the table shows their median and range. */
  frpRatios?: number[];
  /** Anything else worth keeping (latencies, RSS, tool). */
  extra?: Record<string, number | string>;
}
