// Definite, fast public error answers: a status, a stable code in
// x-burrow-error and a short text, in each form the edge needs them
// (Node's HTTP/1.1 response, HTTP/2 headers, raw bytes on a socket, gRPC status).
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { errorAnswer } from '../error-answer.js';
import { grpcStatusFor } from '../errors.js';
import { percentEncodeGrpcMessage } from '../grpc-message-encoding.js';
import { rawHttpAnswer } from '../raw-http-answer.js';

/** Why a request in another HTTP version than 1.0 or 1.1 is answered 505, whichever way it was found. */
export const unservedHttpVersion = 'only HTTP/1.0 and HTTP/1.1 requests are served here (or HTTP/2 with its preface)';

export function respondWithError(res: ServerResponse, code: string, message: string, retryAfterSeconds?: number): void {
  if (res.headersSent) {
    // Too late for a status: cut the connection so the client sees a failure
    // rather than a truncated body that looks complete.
    res.destroy();
    return;
  }
  const { status, headers, body } = errorAnswer(code, message, retryAfterSeconds);
  try {
    // Its own reason, not one a failed writeHead left on the response (a service's that Node refused).
    res.writeHead(status, STATUS_CODES[status] ?? '', headers);
  } catch {
    res.destroy();
    return;
  }
  res.end(body);
}

/** The whole answer as bytes for a socket no HTTP server owns (refused upgrades, unparsable requests); the connection closes after it. */
export function rawErrorAnswer(code: string, message: string, retryAfterSeconds?: number): string {
  const { status, headers, body } = errorAnswer(code, message, retryAfterSeconds);
  return rawHttpAnswer(status, headers, body);
}


/** A gRPC status for a call the edge ends itself, as headers or trailers. */
export function grpcErrorStatus(code: string, message: string): Record<string, string> {
  return { 'grpc-status': String(grpcStatusFor(code)), 'grpc-message': percentEncodeGrpcMessage(message), 'x-burrow-error': code };
}
