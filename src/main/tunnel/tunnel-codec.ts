// Decoding TunnelMessages without letting one bad message end a stream:
// grpc-js fails the whole call when a deserializer throws, which would take
// every request on the stream with it. An undecodable message becomes an
// empty one, remembered as malformed, for the receiver to answer.
import { TunnelMessage, TunnelServiceService } from '../gen/burrow/v1/tunnel.js';

const malformed = new WeakMap<TunnelMessage, string>();

export function decodeTunnelMessage(bytes: Buffer): TunnelMessage {
  try {
    return TunnelMessage.decode(bytes);
  } catch (error) {
    const message: TunnelMessage = { requestId: '', protocolType: 0, messageType: 0, payload: undefined, traceId: '' };
    malformed.set(message, `undecodable message of ${bytes.length} bytes: ${(error as Error).message}`);
    return message;
  }
}

/** Why a message could not be decoded, or undefined for a good one. */
export function malformedReason(message: TunnelMessage): string | undefined {
  return malformed.get(message);
}

/** The service definition with the tolerant decoder on what agents send. */
export const tolerantTunnelService = {
  controlStream: { ...TunnelServiceService.controlStream, requestDeserialize: decodeTunnelMessage },
  proxy: { ...TunnelServiceService.proxy, requestDeserialize: decodeTunnelMessage },
} as const;
