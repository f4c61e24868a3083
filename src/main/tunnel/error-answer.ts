// The answer the edge gives an HTTP client for a request it cannot carry
// through: a status, a stable code in x-burrow-error and a short text. Here,
// not with the edge's writers of it (server/public-errors.ts), since the
// agent records it too as the answer its request got (the inspector, HAR).
import { ErrorCode, httpStatusFor } from './errors.js';

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function errorAnswer(code: string, message: string, retryAfterSeconds?: number): ErrorAnswer {
  const body = `${message}\n`;
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-burrow-error': code,
    'cache-control': 'no-store',
  };
  const retryAfter = retryAfterSeconds ?? (code === ErrorCode.OverCapacity ? 1 : undefined);
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  return { status: httpStatusFor(code), headers, body };
}
