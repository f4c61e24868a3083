// gRPC status codes by name, as grpc-status carries them (0-16).
const grpcStatusNames = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** The code's name, or `CODE_n` for one outside the spec. */
export function grpcStatusName(code: number): string {
  return grpcStatusNames[code] ?? `CODE_${code}`;
}
