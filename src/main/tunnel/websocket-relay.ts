// Relays one WebSocket to and from the tunnel as WebSocketFrame messages,
// under per-connection credit both ways. The server uses it for the public
// client's socket, the agent for the local service's. Messages larger than a
// body chunk cross the tunnel as fragments, so no WebSocket message meets the
// tunnel's own message limit; only the configured message limit applies.
import type { RawData, WebSocket } from 'ws';
import type { WebSocketFrame } from '../gen/burrow/v1/tunnel.js';
import { BurrowError, ErrorCode } from './errors.js';
import { CreditedQueue, CreditedReceiver, maxChunkBytes } from './flow-control.js';
import { explainRefusedFrameClose } from './patches/websocket-close-reason.js';
import { deferCloseReply } from './patches/websocket-deferred-close-reply.js';

export const Opcode = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** Where a message from the inspector goes: onto this relay's socket, or into the tunnel as if the socket had sent it. */
export type InjectTarget = 'socket' | 'tunnel';

/** A close frame without a status code, as ws reports it (RFC 6455 section 7.4.1). */
const noStatusCode = 1005;
const goingAway = 1001;
/** ws's own bound on a close handshake (closeTimeout in ws/lib/websocket.js). */
const closeReplyTimeoutMs = 30_000;
/** The wait for the far end's close, past its own socket's close bound: its close comes by then even from a socket that never replied. */
const farEndCloseWaitMs = closeReplyTimeoutMs + 5_000;

const mebibytes = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);
/** What may wait for a receiver before the inspector's messages to it are refused: room for a quick burst, not gigabytes. */
export const maxInjectedBacklogBytes = 16 * 1024 * 1024;

/** Codes an endpoint may put in a close frame (RFC 6455 section 7.4). */
function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** Why an exchange ends when its far end never closes (WebSocketRelayHooks.closed). */
export const farEndSilence = 'the far end of the tunnel did not close the WebSocket in time after this side had';

export interface WebSocketRelayHooks {
  /** Sends a frame through the tunnel. */
  sendFrame(frame: WebSocketFrame): void;
  /** Sends a credit grant through the tunnel. */
  sendGrant(bytes: number): void;
  /** Every message and control frame relayed, with its direction relative to this socket; `injected` for a message the inspector sent. */
  observe?(message: ObservedMessage, fromSocket: boolean, injected: boolean): void;
  /**
   * The socket's close frame has crossed the tunnel, after every frame
   * before it, its connection has closed, and the far end's close has come
   * through the tunnel; called once. `farEndSilent`: that close never came,
   * within ws's bound on a close handshake.
   */
  closed(farEndSilent: boolean): void;
}

/**
 * A whole message or control frame, as the inspector shows it: ws hands
 * this side whole messages, while the tunnel carries them in fragments of
 * at most a chunk (a 4 MiB message showed as four frames, three of them
 * continuations that were never sent).
 */
export interface ObservedMessage {
  opcode: number;
  /** All of its bytes. */
  size: number;
  /** Its bytes, or of one that crossed the tunnel in fragments its first fragment's. */
  payload: Buffer;
  closeCode: number;
  closeReason: string;
}

export interface WebSocketRelayOptions {
  /** Initial credit each way. */
  window: number;
  /** The message size limit this socket enforces (its maxPayload), named in the close reason. */
  maxMessageBytes: number;
}

export class WebSocketRelay {
  private readonly outbound: CreditedQueue<WebSocketFrame>;
  private readonly inbound: CreditedReceiver<WebSocketFrame>;
  /** The socket's close frame is queued for the tunnel: nothing more comes from it. */
  private socketClosed = false;
  /** The socket's close frame has gone into the tunnel. */
  private closeSent = false;
  /** The socket's connection has closed. */
  private socketGone = false;
  /** hooks.closed() was called. */
  private ended = false;
  /** The far end's close frame has come through the tunnel: nothing more will. */
  private farEndClosed = false;
  /** Bounds the wait for the far end's close once this side is done. */
  private farEndTimer: NodeJS.Timeout | undefined;
  /** The peer started the close handshake: its reply waits for the far end's (deferCloseReply). */
  private replyTimer: NodeJS.Timeout | undefined;
  /** Whether the message being written to the socket, fragment by fragment, is binary. */
  private writingBinary = false;
  /** A message from the tunnel is being written to the socket fragment by fragment: nothing may come between. */
  private midMessage = false;
  /** Injected messages for the socket, waiting for the end of the message being written. */
  private readonly heldInjections: { opcode: number; payload: Buffer }[] = [];
  /** The message whose fragments are coming from the tunnel, for the inspector. */
  private deliveredMessage: ObservedMessage | undefined;
  /** Frames handed to ws that it has not yet written to the socket (it compresses a message in the background). */
  private unwritten = 0;
  /** The far end's connection ended without a close: this socket is dropped too, once what came before is written. */
  private dropWhenWritten: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: WebSocketRelayOptions,
    private readonly hooks: WebSocketRelayHooks,
  ) {
    this.outbound = new CreditedQueue<WebSocketFrame>(
      options.window,
      (frame) => this.sendFrame(frame),
      (waiting) => (waiting ? ws.pause() : ws.resume()),
    );
    this.inbound = new CreditedReceiver<WebSocketFrame>((frame, done) => this.toSocket(frame, done), options.window, hooks.sendGrant);
    const ourClose = explainRefusedFrameClose(ws, options.maxMessageBytes);
    ws.on('message', (data: RawData, isBinary: boolean) => this.fromSocket(isBinary ? Opcode.Binary : Opcode.Text, toBuffer(data)));
    ws.on('ping', (payload: Buffer) => this.fromSocket(Opcode.Ping, payload));
    ws.on('pong', (payload: Buffer) => this.fromSocket(Opcode.Pong, payload));
    deferCloseReply(ws, (code, reason) => {
      this.closeFromSocket(code, reason.toString());
      // Bounded as ws bounds a close handshake: the reply goes after its close timeout at the latest.
      this.replyTimer = setTimeout(() => (code === noStatusCode ? ws.close() : ws.close(code, reason)), closeReplyTimeoutMs);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      clearTimeout(this.replyTimer);
      clearTimeout(this.dropWhenWritten);
      this.socketGone = true;
      // When this side closed for a frame it refused, the far side hears that close, not the 1006 ws reports.
      const closing = ourClose.sent ?? { code, reason: reason.toString() };
      this.closeFromSocket(closing.code, closing.reason);
      this.closedIfDone();
    });
    // Errors end in 'close', which is what the peer is told about.
    ws.on('error', () => {});
  }

  /** A frame from the tunnel, for this socket. */
  deliver(frame: WebSocketFrame): void {
    this.observeDelivered(frame);
    this.inbound.write(frame, frame.payload.length);
    if (frame.opcode === Opcode.Close) {
      this.farEndClosed = true;
      this.closedIfDone();
    }
  }

  /** Control frames as they come (between a message's fragments too); a message once its last fragment has. */
  private observeDelivered(frame: WebSocketFrame): void {
    const { observe } = this.hooks;
    if (observe === undefined) return;
    if (frame.opcode >= Opcode.Close) {
      observe(observedMessage(frame), false, false);
      return;
    }
    if (frame.opcode !== Opcode.Continuation || this.deliveredMessage === undefined) this.deliveredMessage = observedMessage(frame);
    else this.deliveredMessage.size += frame.payload.length;
    if (!frame.fin) return;
    observe(this.deliveredMessage, false, false);
    this.deliveredMessage = undefined;
  }

  grant(bytes: number): void {
    this.outbound.grant(bytes);
  }

  /**
   * Sends one whole text or binary message from the inspector, between the
   * relayed ones, under the same message limit. Into the tunnel it takes the
   * socket's own path, credit included; onto the socket it waits for the end
   * of a fragmented message being written. Throws when it cannot be sent,
   * and while more than maxInjectedBacklogBytes wait for the receiver:
   * relayed messages stop their socket then, and injected ones queued
   * without bound for one that read nothing (gigabytes, outside the heap).
   */
  inject(opcode: typeof Opcode.Text | typeof Opcode.Binary, payload: Buffer, target: InjectTarget): void {
    if (this.socketClosed || this.ws.readyState !== this.ws.OPEN) throw new BurrowError(ErrorCode.Conflict, 'the WebSocket is closed');
    if (payload.length > this.options.maxMessageBytes) {
      throw new BurrowError(ErrorCode.BodyTooLarge, `the message is ${payload.length} bytes; WebSocket messages through this tunnel are limited to ${this.options.maxMessageBytes}`);
    }
    const waiting = target === 'tunnel' ? this.outbound.pendingBytes : this.ws.bufferedAmount + this.heldInjections.reduce((sum, held) => sum + held.payload.length, 0);
    if (waiting > maxInjectedBacklogBytes) {
      throw new BurrowError(ErrorCode.Conflict, `${mebibytes(waiting)} MiB already wait to be sent to the receiver, which reads slower or not at all; send again once it has read them`);
    }
    if (target === 'tunnel') this.fromSocket(opcode, payload, true);
    else if (this.midMessage) this.heldInjections.push({ opcode, payload });
    else this.writeInjected(opcode, payload);
  }

  /** This side is stopping: the socket closes as going away (1001, RFC 6455 section 7.4.1), and its close crosses the tunnel as any other. */
  goAway(reason: string): void {
    if (!this.socketClosed && this.ws.readyState === this.ws.OPEN) this.ws.close(goingAway, reason);
  }

  /** Drops the socket without a close handshake (the tunnel side is gone). */
  terminate(): void {
    this.socketClosed = true;
    clearTimeout(this.replyTimer);
    clearTimeout(this.farEndTimer);
    clearTimeout(this.dropWhenWritten);
    this.outbound.clear();
    this.ws.terminate();
  }

  /**
   * The far end's connection ended with no close frame (1006): this one is
   * dropped too, as soon as every frame before that end is written. A
   * compressed message may still be in ws's deflate when the end comes, and
   * dropping the socket then lost it (a service that sent its last message
   * and exited). Bounded as a close handshake, for a reader that never reads.
   */
  private dropOnceWritten(): void {
    if (this.unwritten === 0) {
      this.ws.terminate();
      return;
    }
    this.dropWhenWritten ??= setTimeout(() => this.ws.terminate(), closeReplyTimeoutMs);
  }

  /** `done` for a frame handed to ws, counted until ws has written it. */
  private written(done: (error?: Error | null) => void = () => {}): (error?: Error | null) => void {
    this.unwritten++;
    return (error) => {
      this.unwritten--;
      done(error);
      if (this.unwritten === 0 && this.dropWhenWritten !== undefined) {
        clearTimeout(this.dropWhenWritten);
        this.ws.terminate();
      }
    };
  }

  /** The socket's close frame, or its end without one: into the tunnel once, after every frame before it. */
  private closeFromSocket(code: number, reason: string): void {
    if (this.socketClosed) return;
    this.socketClosed = true;
    const close = { fin: true, opcode: Opcode.Close, payload: Buffer.alloc(0), closeCode: code, closeReason: reason };
    this.hooks.observe?.(observedMessage(close), true, false);
    this.queue(close);
  }

  /**
   * The exchange ends once the far end knows of the close, this socket's
   * connection is gone (the far end's reply, when it started it, written),
   * and the far end has closed too. Until then what comes from the far end is
   * taken, and credited, with no socket to write it to: a side that ended
   * first left the far end's last frames, and its close behind them, waiting
   * for credit for good (a client that closes and leaves while a window of
   * the service's data is on its way to it).
   */
  private closedIfDone(): void {
    if (!this.closeSent || !this.socketGone || this.ended) return;
    if (!this.farEndClosed) {
      this.farEndTimer ??= setTimeout(() => this.end(true), farEndCloseWaitMs);
      return;
    }
    this.end(false);
  }

  private end(farEndSilent: boolean): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.farEndTimer);
    this.hooks.closed(farEndSilent);
  }

  /** A whole message or control frame from the socket: into the tunnel in chunk-sized fragments. */
  private fromSocket(opcode: number, payload: Buffer, injected = false): void {
    this.hooks.observe?.({ opcode, size: payload.length, payload, closeCode: 0, closeReason: '' }, true, injected);
    if (payload.length <= maxChunkBytes) {
      this.queue({ fin: true, opcode, payload, closeCode: 0, closeReason: '' });
      return;
    }
    for (let offset = 0; offset < payload.length; offset += maxChunkBytes) {
      const end = Math.min(offset + maxChunkBytes, payload.length);
      const fragment = payload.subarray(offset, end);
      this.queue({ fin: end === payload.length, opcode: offset === 0 ? opcode : Opcode.Continuation, payload: fragment, closeCode: 0, closeReason: '' });
    }
  }

  private queue(frame: WebSocketFrame): void {
    this.outbound.push(frame, frame.payload.length);
  }

  private sendFrame(frame: WebSocketFrame): void {
    this.hooks.sendFrame(frame);
    if (frame.opcode !== Opcode.Close) return;
    this.closeSent = true;
    this.closedIfDone();
  }

  private toSocket(frame: WebSocketFrame, done: (error?: Error | null) => void): void {
    const { ws } = this;
    if (ws.readyState !== ws.OPEN) {
      done();
      return;
    }
    switch (frame.opcode) {
      case Opcode.Text:
      case Opcode.Binary:
      case Opcode.Continuation:
        if (frame.opcode !== Opcode.Continuation) this.writingBinary = frame.opcode === Opcode.Binary;
        ws.send(frame.payload, { binary: this.writingBinary, fin: frame.fin }, this.written(done));
        this.midMessage = !frame.fin;
        // ws queues sends in order, so held messages follow the last fragment.
        if (!this.midMessage) for (const held of this.heldInjections.splice(0)) this.writeInjected(held.opcode, held.payload);
        return;
      case Opcode.Ping:
        ws.ping(frame.payload, undefined, this.written(done));
        return;
      case Opcode.Pong:
        ws.pong(frame.payload, undefined, this.written(done));
        return;
      case Opcode.Close:
        if (frame.closeCode === 1006) this.dropOnceWritten();
        else if (isSendableCloseCode(frame.closeCode)) ws.close(frame.closeCode, frame.closeReason);
        else ws.close();
        done();
        return;
      default:
        done();
    }
  }

  private writeInjected(opcode: number, payload: Buffer): void {
    this.hooks.observe?.({ opcode, size: payload.length, payload, closeCode: 0, closeReason: '' }, false, true);
    this.ws.send(payload, { binary: opcode === Opcode.Binary, fin: true }, this.written());
  }
}

/** A frame as the inspector is told of it (fields by name: see test/unit/spread-copies.test.ts). */
function observedMessage(frame: WebSocketFrame): ObservedMessage {
  const size = frame.opcode === Opcode.Close ? closePayloadBytes(frame.closeCode, frame.closeReason) : frame.payload.length;
  return { opcode: frame.opcode, size, payload: frame.payload, closeCode: frame.closeCode, closeReason: frame.closeReason };
}

/** A close frame's payload as sent: its code and reason (RFC 6455 section 5.5.1), none for 1005 (no code) or 1006 (no frame). The tunnel carries them as fields, so the inspector said 0 B. */
function closePayloadBytes(code: number, reason: string): number {
  return code === 1005 || code === 1006 || code === 0 ? 0 : 2 + Buffer.byteLength(reason);
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
