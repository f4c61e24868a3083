// What every agent-side exchange is given: its request, where it goes, the
// data stream it answers on, and where it reports traffic.
import type { RequestHead } from '../../gen/burrow/v1/tunnel.js';
import type { TrafficEvent } from '../../../shared/traffic.js';
import type { TunnelPeer } from '../exchange.js';
import type { LocalTarget } from './local-target.js';

/** The data stream as exchanges see it, with the limits the server set. */
export interface DataLink extends TunnelPeer {
  readonly maxWebSocketMessageBytes: number;
  /** The server relays interim (1xx) responses ahead of the final one. */
  readonly takesInterimResponses: boolean;
  /** The server leaves Expect: 100-continue to the service and takes its 100 (Continue). */
  readonly takesContinue: boolean;
  /** The server took a client's own X-Forwarded-* and the like off (ConfigSync.vouches_forwarded_fields). */
  readonly vouchesForwardedFields: boolean;
}

export interface LocalExchangeContext {
  requestId: string;
  head: RequestHead;
  target: LocalTarget;
  link: DataLink;
  emit(event: TrafficEvent): void;
  /** Runs once when the exchange ends. */
  ended(): void;
}
