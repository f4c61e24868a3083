// The life of one relayed request, written once for all six exchanges (the
// edge's and the agent's, for HTTP, gRPC and WebSocket). An exchange is open
// until it finishes or fails, exactly once, and never speaks after that; the
// peer hears of a failure once, unless it caused it; credit and resets from
// the peer are handled here. Subclasses adapt one protocol: they parse and
// write, and call finish() once every byte of the answer has been handed on.
import type { Readable } from 'node:stream';
import type { BodyChunk, Header, ProtocolType, TunnelMessage } from '../gen/burrow/v1/tunnel.js';
import { longestTimerMs } from './config.js';
import { ErrorCode, BurrowError } from './errors.js';
import { CreditedReceiver, CreditedSender, type ItemSink } from './flow-control.js';
import { dataMessage, noBody, resetMessage, type Payload } from './messages.js';
import { bodyParts, gatheredBody } from './tunnel-codec.js';

export type { Payload };

/** The far end of the tunnel, as one exchange sees it. */
export interface TunnelPeer {
  /** Sends a data-stream message; false when the data stream is down. */
  send(message: TunnelMessage): boolean;
  /** Initial credit, in bytes, that each side grants the other per request. */
  readonly windowBytes: number;
  /** The data stream sends a body chunk in the pieces it was read in (tunnel-codec's gatheredBody). */
  readonly sendsGathered?: boolean;
  /** Tells the peer, where it will hear it, that one of its messages broke the protocol (the edge: on the agent's control stream). */
  protocolError?(requestId: string, message: string): void;
}

/** Told once how an exchange ended (the agent's traffic log). */
export interface ExchangeObserver {
  ended(): void;
  failed(code: string, message: string): void;
}

export interface ExchangeFailure {
  code: string;
  message: string;
  /** A plain HTTP/2 request the service reset: its RST_STREAM code (Reset.http2_error_code). */
  http2ErrorCode?: number;
}

/** The body the peer streams to this side, and what to do with it. */
interface InboundBody {
  receiver: CreditedReceiver;
  observe: ((data: Buffer) => void) | undefined;
  /** The body ended, with trailers or none. */
  ended: (trailers: Header[]) => void;
}

export enum ExchangeState {
  Open = 'open',
  Finished = 'finished',
  Failed = 'failed',
}

export abstract class Exchange {
  private stateValue = ExchangeState.Open;
  /** Bytes this side streams to the peer, spent against the peer's credit. */
  private outbound: CreditedSender | undefined;
  /** Open from receiveBody() until the peer ends the body; false before and after. */
  private inbound: InboundBody | false = false;
  private inboundEnded = false;
  private readonly timers: NodeJS.Timeout[] = [];
  protected observer: ExchangeObserver | undefined;
  /** Body bytes streamed to the peer, and from it (for metrics and access logs). */
  protected bodyBytesSent = 0;
  protected bodyBytesReceived = 0;
  /** Follows the request through both sides' logs; sent with every message. */
  traceId = '';

  constructor(
    readonly requestId: string,
    readonly protocol: ProtocolType,
    protected readonly peer: TunnelPeer,
    /** Runs once when the exchange ends, however it ends (the owner forgets it). */
    private readonly onEnded: () => void,
    /** Prefixed to failure messages, e.g. "tunnel app". */
    private readonly subject = '',
  ) {}

  get state(): ExchangeState {
    return this.stateValue;
  }

  get isOpen(): boolean {
    return this.stateValue === ExchangeState.Open;
  }

  /** A data-stream message from the peer for this request_id. */
  receive(message: TunnelMessage): void {
    if (!this.isOpen) return;
    const payload = message.payload;
    try {
      if (payload === undefined) throw new BurrowError(ErrorCode.Protocol, 'empty message');
      switch (payload.$case) {
        case 'windowUpdate':
          this.onGrant(payload.value.bytes);
          return;
        case 'reset':
          this.fail(payload.value.code, payload.value.message, false, payload.value.http2ErrorCode);
          return;
        case 'bodyChunk':
          this.onBodyChunk(payload.value);
          return;
        case 'trailers':
          this.endInbound(payload.value.headers);
          return;
        default:
          this.onPayload(payload);
      }
    } catch (error) {
      // A message that breaks the protocol fails this request only.
      const code = error instanceof BurrowError ? error.code : ErrorCode.Protocol;
      const text = this.describe((error as Error).message);
      if (code === ErrorCode.Protocol) this.peer.protocolError?.(this.requestId, text);
      this.fail(code, text, true);
    }
  }

  /** Its side is stopping and lets exchanges finish: one that lasts as long as its client likes (a WebSocket) closes as such; others run on. */
  goAway(): void {}

  /** Ends the exchange from outside (data stream lost, agent gone, stopping); the peer already knows or cannot hear. */
  abort(code: string, message: string): void {
    this.fail(code, message, false);
  }

  /** Handles a payload other than credit, resets and body; throws BurrowError when it breaks the protocol. */
  protected onPayload(payload: Payload): void {
    throw new BurrowError(ErrorCode.Protocol, `unexpected ${payload.$case} message`);
  }

  /** Closes this side's resources, once: with the failure, or undefined after finish(). */
  protected abstract release(failure: ExchangeFailure | undefined): void;

  /** The peer granted more credit: by default for the body this side streams. */
  protected onGrant(bytes: number): void {
    this.outbound?.grant(bytes);
  }

  protected send(payload: Payload): boolean {
    return this.peer.send(dataMessage(this.requestId, this.protocol, payload, this.traceId));
  }

  /**
   * Streams `source` to the peer as body chunks, never past its credit;
   * `ended` runs once the last byte has gone (it sends the end, or trailers).
   * `admit` may refuse a chunk (and fail the exchange) before it is sent; it
   * sees the chunk's data as the reads it spans when it goes gathered.
   */
  protected streamBody(source: Readable, ended: () => void, admit?: (parts: readonly Buffer[], length: number) => boolean): void {
    const sendChunk = (chunk: BodyChunk, parts: readonly Buffer[], length: number): void => {
      if (admit !== undefined && !admit(parts, length)) return;
      this.bodyBytesSent += length;
      this.send({ $case: 'bodyChunk', value: chunk });
    };
    this.outbound = new CreditedSender(source, this.peer.windowBytes, {
      chunk: (data) => sendChunk({ data, endStream: false }, [data], data.length),
      parts: this.peer.sendsGathered === true ? (parts, length) => sendChunk(gatheredBody(parts, length), parts, length) : undefined,
      end: ended,
    });
  }

  /** The body being streamed waits for its source to send more, not for the peer's credit. */
  protected get bodyWaitsForSource(): boolean {
    return this.outbound?.waitingForSource ?? false;
  }

  /** Stops streaming the body (the other side answered without needing the rest). */
  protected stopBody(): void {
    this.outbound?.stop();
  }

  protected sendBodyEnd(): void {
    this.send({ $case: 'bodyChunk', value: { data: noBody, endStream: true } });
  }

  /**
   * Takes the body the peer streams from now on (body chunks, then an end or
   * trailers) into `sink`, granting credit back as the sink takes each chunk.
   */
  protected receiveBody(sink: ItemSink<Buffer>, ended: (trailers: Header[]) => void, observe?: (data: Buffer) => void): void {
    // Chunks written before the end still call back after it: no credit for a request that is over.
    const receiver = new CreditedReceiver(sink, this.peer.windowBytes, (bytes) => this.isOpen && this.send({ $case: 'windowUpdate', value: { bytes } }));
    this.inbound = { receiver, observe, ended };
  }

  /** The peer is still streaming a body to this side. */
  protected get receivingBody(): boolean {
    return this.inbound !== false;
  }

  private onBodyChunk(chunk: BodyChunk): void {
    const inbound = this.inbound;
    if (inbound === false) throw new BurrowError(ErrorCode.Protocol, this.inboundEnded ? 'body after its end' : 'body where none was announced');
    // Data that arrived in pieces goes on in pieces to a sink that writes them gathered; any other sink gets it joined.
    const pieces = bodyParts(chunk);
    const gathered = pieces !== undefined && inbound.receiver.batches(pieces.length) ? pieces : undefined;
    if (gathered !== undefined) {
      if (gathered.length > 0) {
        for (const part of gathered.parts) inbound.observe?.(part);
        this.bodyBytesReceived += gathered.length;
        inbound.receiver.writeBatch(gathered.parts, gathered.length, byteLength);
      }
    } else {
      const data = chunk.data;
      if (data.length > 0) {
        inbound.observe?.(data);
        this.bodyBytesReceived += data.length;
        inbound.receiver.write(data, data.length);
      }
    }
    if (chunk.endStream) this.endInbound([]);
  }

  private endInbound(trailers: Header[]): void {
    const inbound = this.inbound;
    if (inbound === false) throw new BurrowError(ErrorCode.Protocol, this.inboundEnded ? 'trailers after the end of the body' : 'trailers where no body was announced');
    this.inbound = false;
    this.inboundEnded = true;
    inbound.ended(trailers);
  }

  /** A timer that ends with the exchange. */
  protected after(ms: number, run: () => void): NodeJS.Timeout {
    // Node runs a timer past 2^31 - 1 ms (24.8 days) at once: a gRPC caller's deadline of 25 days is one that never comes here.
    const timer = setTimeout(run, Math.min(ms, longestTimerMs));
    this.timers.push(timer);
    return timer;
  }

  /** Every byte of the answer has been handed on: the exchange is over. */
  protected finish(): void {
    if (!this.end(ExchangeState.Finished)) return;
    this.release(undefined);
    this.observer?.ended();
    this.onEnded();
  }

  /** Ends the exchange with an error; `tellPeer` when the peer does not know yet. */
  protected fail(code: string, message: string, tellPeer: boolean, http2ErrorCode?: number): void {
    if (!this.end(ExchangeState.Failed)) return;
    if (tellPeer) this.peer.send(resetMessage(this.requestId, this.protocol, code, message, http2ErrorCode));
    this.release({ code, message, http2ErrorCode });
    this.observer?.failed(code, message);
    this.onEnded();
  }

  protected describe(message: string): string {
    return this.subject === '' ? message : `${this.subject}: ${message}`;
  }

  private end(state: ExchangeState): boolean {
    if (!this.isOpen) return false;
    this.stateValue = state;
    for (const timer of this.timers) clearTimeout(timer);
    this.outbound?.stop();
    return true;
  }
}

const byteLength = (data: Buffer): number => data.length;
