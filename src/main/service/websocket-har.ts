// A WebSocket's messages in HAR, as Chrome's DevTools writes them
// (`_webSocketMessages`: type send or receive, time in seconds, opcode,
// data; binary in base64), so that an export shows its frames in other HAR
// readers and a browser's export shows them here. Only data messages, as
// Chrome keeps; a message the log kept only part of says so.
import type { TrafficEvent } from '../../shared/traffic.js';
import type { KeptMessage } from './traffic-log.js';

export interface HarWebSocketMessage {
  type: 'send' | 'receive';
  time: number;
  opcode: number;
  data: string;
  /** The message's whole size, when the log kept only the first bytes of it. */
  _size?: number;
  _injected?: boolean;
}

const dataOpcodes = new Set([1, 2]);

export function harWebSocketMessages(kept: readonly KeptMessage[]): HarWebSocketMessage[] {
  return kept
    .filter(({ view }) => dataOpcodes.has(view.opcode))
    .map(({ view, data }) => ({
      type: view.direction === 'to-service' ? 'send' : 'receive',
      time: view.at / 1000,
      opcode: view.opcode,
      // A cut text message may end inside a character: what decodes of it.
      data: view.opcode === 1 ? new TextDecoder().decode(data, { stream: data.length < view.size }) : data.toString('base64'),
      ...(data.length < view.size && { _size: view.size }),
      ...(view.injected === true && { _injected: true }),
    }));
}

/**
 * The frames of an entry's `_webSocketMessages`, as the relay reports them;
 * ones that are not messages are left out. Written by hand or by other tools,
 * a message may have no opcode (text, then) or no time (the entry's start).
 */
export function webSocketFrameEvents(messages: unknown, requestId: string, startedAt: number): TrafficEvent[] {
  if (!Array.isArray(messages)) return [];
  return messages.flatMap((message: unknown): TrafficEvent[] => {
    if (typeof message !== 'object' || message === null) return [];
    const { type, time, opcode = 1, data, _size, _injected } = message as Record<string, unknown>;
    if ((type !== 'send' && type !== 'receive') || !dataOpcodes.has(opcode as number) || typeof data !== 'string') return [];
    const bytes = Buffer.from(data, opcode === 1 ? 'utf8' : 'base64');
    const size = typeof _size === 'number' && _size > bytes.length ? _size : bytes.length;
    return [{ kind: 'ws-frame', requestId, direction: type === 'send' ? 'to-service' : 'to-client', opcode: opcode as number, fin: true, size, data: bytes, at: messageTime(time, startedAt), ...(_injected === true && { injected: true }) }];
  });
}

/** The furthest from 1970 a Date holds, in ms either way (ECMA-262 section 21.4.1.1). */
export const dateRangeMs = 8.64e15;

/** A message's time in ms from HAR's seconds; the entry's start when it has none a date can hold. */
function messageTime(time: unknown, startedAt: number): number {
  const at = typeof time === 'number' ? time * 1000 : NaN;
  return Number.isFinite(at) && Math.abs(at) <= dateRangeMs ? at : startedAt;
}
