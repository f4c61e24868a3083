// One access-log line per public request: the fields for JSON, and the same
// in words for a terminal. Query parameters that look like credentials are
// redacted before a path is written anywhere.
import type { PublicRequestRecord } from '../tunnel/server/tunnel-server.js';

const credentialParameter = /token|key|secret|passw|auth|sig|session|code|credential/i;

export interface AccessLine {
  fields: Record<string, string | number | boolean>;
  message: string;
}

export function accessLine(record: PublicRequestRecord): AccessLine {
  const path = redactQuery(record.path);
  const fields = {
    type: 'access',
    request_id: record.requestId,
    trace_id: record.traceId,
    tunnel: record.tunnel,
    protocol: record.protocol,
    method: record.method,
    path,
    status: record.status,
    ...(record.grpcStatus !== undefined && { grpc_status: record.grpcStatus }),
    ...(record.errorCode !== undefined && { error_code: record.errorCode }),
    ...(record.refused && { refused: true }),
    bytes_in: record.bytesIn,
    bytes_out: record.bytesOut,
    duration_ms: record.durationMs,
    started_at: new Date(record.startedAt).toISOString(),
  };
  const outcome = [record.status === 0 ? 'no answer' : String(record.status), record.grpcStatus === undefined ? '' : `grpc-status ${record.grpcStatus}`, record.errorCode ?? '']
    .filter(Boolean)
    .join(' ');
  const message =
    `${record.method || '-'} ${record.tunnel || '-'} ${path || '-'} ${record.protocol} ${outcome}` +
    ` in=${record.bytesIn} out=${record.bytesOut} ${record.durationMs}ms request_id=${record.requestId} trace_id=${record.traceId}`;
  return { fields, message };
}

/** `/cb?code=abc&x=1` becomes `/cb?code=[redacted]&x=1`. */
export function redactQuery(path: string): string {
  const query = path.indexOf('?');
  if (query < 0) return path;
  const parameters = path
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals < 0 ? pair : pair.slice(0, equals);
      return equals >= 0 && credentialParameter.test(decodeSafely(name)) ? `${name}=[redacted]` : pair;
    });
  return `${path.slice(0, query)}?${parameters.join('&')}`;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
