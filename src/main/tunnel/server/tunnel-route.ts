// Where an admitted public request goes: to the agent's session on this edge,
// or, in a cluster, to another edge that holds one (edge-forwarder.ts). Its
// exchange sees only this.
import type { ConfigSync } from '../../gen/burrow/v1/tunnel.js';
import type { Exchange, TunnelPeer } from '../exchange.js';

export interface TunnelRoute extends TunnelPeer {
  /** The agent's token's own limits, where it has any. */
  readonly identity: { readonly maxBodyBytes?: number };
  readonly config: ConfigSync;
  /** Whoever answers passes Expect: 100-continue on and relays the answer (Hello.relays_continue); otherwise the edge answers 100 itself. */
  readonly relaysContinue: boolean;
  /** Tracks a public exchange until it ends. */
  track(exchange: Exchange): void;
  forget(exchange: Exchange): void;
}
