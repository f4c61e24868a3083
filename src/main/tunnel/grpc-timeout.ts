// The grpc-timeout request header (gRPC over HTTP/2, "Timeout" in PROTOCOL-HTTP2.md).

const timeoutUnitsMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };

/** grpc-timeout ("100m", "5S"...) in whole milliseconds, or undefined. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  const match = typeof value === 'string' ? /^(\d{1,8})([HMSmun])$/.exec(value) : null;
  if (match === null) return undefined;
  return Math.max(1, Math.ceil(Number(match[1]) * timeoutUnitsMs[match[2]!]!));
}
