// One public request in flight on the server, addressed by request_id.
import type { TunnelMessage } from '../../gen/burrow/v1/tunnel.js';

export interface Exchange {
  /** A data-stream message from the agent for this request_id. */
  onAgentMessage(message: TunnelMessage): void;
  /** Ends the request from outside (agent lost, data stream lost, server stopping). */
  abort(code: string, message: string): void;
}
