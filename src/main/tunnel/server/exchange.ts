// One public request in flight on the server, addressed by request_id.
import type { TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import { ErrorCode, TunnelError } from '../errors.js';

export interface Exchange {
  /** A data-stream message from the agent for this request_id. */
  onAgentMessage(message: TunnelMessage): void;
  /** Ends the request from outside (agent lost, data stream lost, server stopping). */
  abort(code: string, message: string): void;
}

/** Where a broken agent message is reported: the agent's control stream. */
export interface ProtocolErrorSink {
  reportProtocolError(requestId: string, message: string): void;
}

/**
 * Runs an exchange's handling of one agent message. A message that breaks
 * the protocol (out of order, wrong kind) fails this request only, and the
 * agent hears why on its control stream; other requests carry on.
 */
export function guardAgentMessage(
  session: ProtocolErrorSink,
  requestId: string,
  tunnel: string,
  handle: () => void,
  fail: (code: string, message: string) => void,
): void {
  try {
    handle();
  } catch (error) {
    const code = error instanceof TunnelError ? error.code : ErrorCode.Protocol;
    const message = `tunnel ${tunnel}: ${(error as Error).message}`;
    if (code === ErrorCode.Protocol) session.reportProtocolError(requestId, message);
    fail(code, message);
  }
}
