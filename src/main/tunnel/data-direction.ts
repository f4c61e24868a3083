// Which of a data stream's messages a Proxy call carries. Node's HTTP/2 stops
// reading a connection while a write of its own is pending (the socket's
// send buffer is full), so two Node ends sending bulk both ways on one
// connection could each wait for the other for good: uploads and downloads
// at once on a fresh tunnel stopped it in 6 of 6 runs, until the heartbeat
// timeout. With a server that takes it (ConfigSync.takes_uplink) the agent
// opens one call for each direction, the uplink on a second connection: on
// each connection one end sends bulk and the other only flow control (and,
// on the first, control messages), small enough always to get out, so each
// end keeps reading.

/** Metadata key: "downlink", "uplink", or absent for both directions on one call. */
export const dataDirectionKey = 'burrow-data-direction';
/** Metadata key: the same opaque value on a downlink and the uplink that goes with it. */
export const dataLinkKey = 'burrow-data-link';

export type DataDirection = 'both' | 'downlink' | 'uplink';

/** The direction a call's metadata value names; undefined for a value no version sends. */
export function parseDataDirection(value: unknown): DataDirection | undefined {
  if (value === undefined) return 'both';
  return value === 'downlink' || value === 'uplink' ? value : undefined;
}

/** grpc-js channel option: a channel makes connections of its own, rather than share another's with the same options (the uplink's the downlink's). */
export const ownConnectionOption = { 'grpc.use_local_subchannel_pool': 1 } as const;
