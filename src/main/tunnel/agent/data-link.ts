// What a request handler on the agent needs from its connection.
import type { TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import type { TrafficEvent } from '../../../shared/traffic.js';

export interface DataLink {
  send(message: TunnelMessage): void;
  traffic(event: TrafficEvent): void;
  /** Initial per-request credit, from the server's ConfigSync. */
  readonly windowBytes: number;
}

export interface LocalExchange {
  onServerMessage(message: TunnelMessage): void;
  abort(code: string, message: string): void;
}
