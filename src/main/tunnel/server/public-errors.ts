// Definite, fast public error responses: plain text, a stable code header.
import type { ServerResponse } from 'node:http';
import { ErrorCode, httpStatusFor } from '../errors.js';

export function respondWithError(res: ServerResponse, code: string, message: string, retryAfterSeconds?: number): void {
  if (res.headersSent) {
    // Too late for a status: cut the connection so the client sees a failure
    // rather than a truncated body that looks complete.
    res.destroy();
    return;
  }
  const body = `${message}\n`;
  const headers: Record<string, string | number> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-burrow-error': code,
    'cache-control': 'no-store',
  };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = retryAfterSeconds;
  else if (code === ErrorCode.OverCapacity) headers['retry-after'] = 1;
  res.writeHead(httpStatusFor(code), headers);
  res.end(body);
}
