// Builders for TunnelMessage envelopes, so call sites name only what differs.
import { MessageType, ProtocolType, type TunnelMessage } from '../gen/burrow/v1/tunnel.js';

export type Payload = NonNullable<TunnelMessage['payload']>;

export function controlMessage(payload: Payload, requestId = ''): TunnelMessage {
  return {
    requestId,
    protocolType: ProtocolType.PROTOCOL_TYPE_CONTROL,
    messageType: MessageType.MESSAGE_TYPE_CONTROL,
    payload,
    traceId: '',
  };
}

/** A data-stream message; the message type follows from the payload. */
export function dataMessage(
  requestId: string,
  protocolType: ProtocolType,
  payload: Payload,
  traceId = '',
): TunnelMessage {
  return { requestId, protocolType, messageType: messageTypeOf(payload), payload, traceId };
}

function messageTypeOf(payload: Payload): MessageType {
  switch (payload.$case) {
    case 'requestHead':
      return MessageType.MESSAGE_TYPE_REQUEST;
    case 'responseHead':
      return MessageType.MESSAGE_TYPE_RESPONSE;
    case 'bodyChunk':
    case 'trailers':
    case 'wsFrame':
      return MessageType.MESSAGE_TYPE_STREAM_CHUNK;
    case 'windowUpdate':
    case 'reset':
      return MessageType.MESSAGE_TYPE_FLOW;
    default:
      return MessageType.MESSAGE_TYPE_CONTROL;
  }
}

export function resetMessage(requestId: string, protocolType: ProtocolType, code: string, message: string, http2ErrorCode?: number): TunnelMessage {
  return dataMessage(requestId, protocolType, { $case: 'reset', value: { code, message, http2ErrorCode } });
}

/** The empty body of head messages that carry none. */
export const noBody: Buffer = Buffer.alloc(0);
