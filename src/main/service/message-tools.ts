// What the inspector does with a request's messages (WebSocket frames, gRPC
// messages) beyond the detail's previews: one message's kept bytes, all of
// them as a JSON file, a search of them, and a WebSocket message sent into
// an open connection.
import type { MessageData, MessageView, RequestDetail, WebSocketSendTarget } from '../../shared/contract.js';
import { BurrowError, ErrorCode } from '../../shared/error-codes.js';
import { websocketOpcodeName } from '../../shared/traffic.js';
import type { KeptMessage } from './traffic-log.js';
import type { TrafficRecorder } from './traffic-recorder.js';

/** Sends a message into an open WebSocket the agent forwards (AgentRunner.injectWebSocketMessage). */
export type WebSocketInjector = (requestId: string, to: WebSocketSendTarget, binary: boolean, payload: Buffer) => void;

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

export class MessageTools {
  constructor(
    private readonly traffic: TrafficRecorder,
    private readonly inject: WebSocketInjector,
  ) {}

  getMessageData(input: { requestId: string; direction: MessageView['direction']; index: number }): MessageData {
    if (typeof input?.requestId !== 'string' || (input.direction !== 'to-service' && input.direction !== 'to-client') || !Number.isInteger(input.index)) {
      throw new BurrowError(ErrorCode.InvalidInput, 'give a requestId, a direction (to-service or to-client) and an index');
    }
    const found = this.kept(input.requestId).find(({ view }) => view.direction === input.direction && view.index === input.index);
    if (found === undefined) throw new BurrowError(ErrorCode.NotFound, `message ${input.direction} #${input.index} is not kept (older messages are dropped)`);
    return { base64: found.data.toString('base64'), size: found.view.size, truncated: found.data.length < found.view.size };
  }

  exportMessages(input: { requestId: string }): { fileName: string; text: string } {
    if (typeof input?.requestId !== 'string') throw new BurrowError(ErrorCode.InvalidInput, 'give a requestId');
    const detail = this.detail(input.requestId);
    if (detail.protocol === 'http') throw new BurrowError(ErrorCode.InvalidInput, 'an HTTP request has no messages: export it as HAR');
    const websocket = detail.protocol === 'websocket';
    const file = {
      requestId: detail.requestId,
      tunnel: detail.tunnel,
      protocol: detail.protocol,
      path: detail.path,
      startedAt: new Date(detail.startedAt).toISOString(),
      messageCount: detail.messageCount,
      olderDropped: detail.messagesTruncated,
      messages: this.kept(detail.requestId).map((message) => exportedMessage(message, websocket)),
    };
    return { fileName: `burrow-${detail.requestId}-${websocket ? 'frames' : 'messages'}.json`, text: `${JSON.stringify(file, null, 2)}\n` };
  }

  searchMessages(input: { requestId: string; text: string }): { matches: Pick<MessageView, 'direction' | 'index'>[] } {
    if (typeof input?.requestId !== 'string' || typeof input.text !== 'string') throw new BurrowError(ErrorCode.InvalidInput, 'give a requestId and the text to look for');
    const needle = input.text.trim().toLowerCase();
    const kept = this.kept(input.requestId);
    if (needle === '') return { matches: [] };
    const matches = kept
      .filter(({ view, data }) => data.toString('utf8').toLowerCase().includes(needle) || (view.closeReason ?? '').toLowerCase().includes(needle))
      .map(({ view }) => ({ direction: view.direction, index: view.index }));
    return { matches };
  }

  sendWebSocketMessage(input: { requestId: string; to: WebSocketSendTarget; text?: string; base64?: string }): { bytes: number } {
    if (typeof input?.requestId !== 'string' || (input.to !== 'service' && input.to !== 'client')) {
      throw new BurrowError(ErrorCode.InvalidInput, 'give a requestId and where to send: service or client');
    }
    const { text, base64 } = input;
    if ((text === undefined) === (base64 === undefined)) throw new BurrowError(ErrorCode.InvalidInput, 'give the message as text or as base64 (binary), one of them');
    if (base64 !== undefined && (typeof base64 !== 'string' || !base64Pattern.test(base64))) throw new BurrowError(ErrorCode.InvalidInput, 'base64 holds characters that are not base64');
    if (text !== undefined && typeof text !== 'string') throw new BurrowError(ErrorCode.InvalidInput, 'text must be a string');
    if (this.detail(input.requestId).protocol !== 'websocket') throw new BurrowError(ErrorCode.InvalidInput, `request ${input.requestId} is not a WebSocket`);
    const payload = base64 !== undefined ? Buffer.from(base64, 'base64') : Buffer.from(text!, 'utf8');
    this.inject(input.requestId, input.to, base64 !== undefined, payload);
    return { bytes: payload.length };
  }

  private detail(requestId: string): RequestDetail {
    const detail = this.traffic.detail(requestId);
    if (detail === null) throw new BurrowError(ErrorCode.NotFound, `request ${requestId} is not in the traffic log`);
    return detail;
  }

  private kept(requestId: string): readonly KeptMessage[] {
    const kept = this.traffic.keptMessages(requestId);
    if (kept === null) throw new BurrowError(ErrorCode.NotFound, `request ${requestId} is not in the traffic log`);
    return kept;
  }
}

/** A message for the export file: WebSocket text as text, anything else as base64; cut ones say so. */
function exportedMessage({ view, data }: KeptMessage, websocket: boolean): Record<string, unknown> {
  const truncated = data.length < view.size;
  const text = websocket && view.opcode === 1 ? utf8(data, truncated) : undefined;
  return {
    direction: view.direction,
    at: new Date(view.at).toISOString(),
    ...(websocket ? { type: websocketOpcodeName(view.opcode) } : { index: view.index }),
    size: view.size,
    ...(text !== undefined ? { text } : { base64: data.toString('base64') }),
    ...(truncated && { truncated: true }),
    ...(view.closeCode !== undefined && { closeCode: view.closeCode, closeReason: view.closeReason }),
    ...(view.injected === true && { injected: true }),
  };
}

/** The bytes as UTF-8, or undefined when they are not; a cut message may end inside a character. */
function utf8(data: Buffer, truncated: boolean): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data, { stream: truncated });
  } catch {
    return undefined;
  }
}
