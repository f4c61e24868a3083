// A public WebSocket upgrade carried to the agent: the handshake goes first
// (the local service decides), then frames flow both ways.
//
// permessage-deflate is negotiated on each hop separately: the agent offers
// it to the local service only when the public client offered it, and the
// edge accepts the client's offer only when the local service accepted the
// agent's. Frames cross the tunnel uncompressed, so the inspector shows
// payloads as sent and size limits apply to real message sizes.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { ProtocolType, type ResponseHead } from '../../gen/burrow/v1/tunnel.js';
import { ErrorCode, BurrowError } from '../errors.js';
import { Exchange, type ExchangeFailure, type Payload, type TunnelPeer } from '../exchange.js';
import { writableSink } from '../flow-control.js';
import { allHeadersFromRaw, headerValue } from '../headers.js';
import { noBody } from '../messages.js';
import { farEndSilence, WebSocketRelay } from '../websocket-relay.js';
import { rawErrorAnswer } from './public-errors.js';
import { RequestOutcome, type PublicRequestRecord } from './public-request-record.js';

/** Handshake headers each hop makes for itself. */
const handshakeHeaders = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-accept']);

/** What the server's WebSocketServer needs to finish a handshake the local service accepted. */
export interface AcceptedHandshake {
  protocol: string | undefined;
  /** Extra response headers from the local service (cookies and the like). */
  headers: string[];
}

export const acceptedHandshakes = new WeakMap<IncomingMessage, AcceptedHandshake>();

export interface PublicWebSocketOptions {
  wss: WebSocketServer;
  /** The message limit the WebSocketServer enforces (its maxPayload). */
  maxMessageBytes: number;
  /** No handshake answer in this long: Timeout. */
  handshakeTimeoutMs: number;
  /** Forwarded by another edge: the public client as that edge saw it. */
  client?: { address: string; scheme: string };
  /** The request target in origin form (an absolute-form one's path and query). */
  path: string;
}

const serverGoingAway = 'the tunnel server is shutting down';

export class PublicWebSocketExchange extends Exchange {
  /** Its side is stopping (goAway()): the socket closes as going away once open. */
  private goingAway = false;
  private relay: WebSocketRelay | undefined;
  /** The local service refused the upgrade; its answer goes to the socket raw. */
  private refused = false;
  private readonly outcome = new RequestOutcome('websocket');
  /** Frame payload bytes each way. */
  private readonly frameBytes = { in: 0, out: 0 };

  /** When the edge had read the request's head: the start of its timing. */
  private readonly receivedAt = Date.now();

  constructor(
    requestId: string,
    private readonly tunnel: string,
    peer: TunnelPeer,
    private readonly req: IncomingMessage,
    private readonly socket: Duplex,
    private readonly head: Buffer,
    private readonly options: PublicWebSocketOptions,
    onEnded: () => void,
  ) {
    super(requestId, ProtocolType.PROTOCOL_TYPE_WEBSOCKET, peer, onEnded, `tunnel ${tunnel}`);
  }

  /** What this WebSocket came to, for the access log and metrics (complete once it has ended). */
  record(): PublicRequestRecord {
    return this.outcome.record({
      requestId: this.requestId,
      traceId: this.traceId,
      tunnel: this.tunnel,
      method: this.req.method ?? 'GET',
      path: this.req.url ?? '/',
      bytesIn: this.frameBytes.in,
      bytesOut: this.frameBytes.out + this.bodyBytesReceived,
    });
  }

  start(): void {
    const { req } = this;
    this.socket.on('error', () => {});
    this.socket.once('close', () => {
      if (this.relay === undefined) this.fail(ErrorCode.ClientGone, 'the public client went away', true);
    });
    const sent = this.send({
      $case: 'requestHead',
      value: {
        tunnel: this.tunnel,
        method: req.method ?? 'GET',
        path: this.options.path,
        // In full, for the inspector: the agent drops what its own hop makes (see local-websocket-exchange.ts).
        headers: allHeadersFromRaw(req.rawHeaders).filter((h) => !h.name.toLowerCase().startsWith('proxy-')),
        remoteAddress: this.options.client?.address ?? req.socket.remoteAddress ?? '',
        scheme: this.options.client?.scheme ?? ('encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http'),
        endStream: true,
        timeoutMs: 0n,
        body: noBody,
        edgeWaitMs: Date.now() - this.receivedAt,
        httpVersion: req.httpVersion,
      },
    });
    if (!sent) {
      this.fail(ErrorCode.TunnelOffline, this.describe(`the agent's data stream is down`), false);
      return;
    }
    const { handshakeTimeoutMs } = this.options;
    this.after(handshakeTimeoutMs, () => {
      if (this.relay === undefined && !this.refused) {
        this.fail(ErrorCode.Timeout, this.describe(`no handshake answer from the local service in ${handshakeTimeoutMs} ms`), true);
      }
    });
  }

  override goAway(): void {
    // Mid-handshake: it goes away once open.
    this.goingAway = true;
    this.relay?.goAway(serverGoingAway);
  }

  protected onPayload(payload: Payload): void {
    switch (payload.$case) {
      case 'responseHead':
        if (this.relay !== undefined || this.refused) throw new BurrowError(ErrorCode.Protocol, 'second handshake answer');
        this.outcome.responded(payload.value.status);
        if (payload.value.status === 101) this.accept(payload.value);
        else this.refuse(payload.value);
        return;
      case 'wsFrame':
        if (this.relay === undefined) throw new BurrowError(ErrorCode.Protocol, 'frame before the handshake');
        this.frameBytes.out += payload.value.payload.length;
        this.relay.deliver(payload.value);
        return;
      default:
        throw new BurrowError(ErrorCode.Protocol, `unexpected ${payload.$case} message on a WebSocket`);
    }
  }

  protected onGrant(bytes: number): void {
    this.relay?.grant(bytes);
  }

  private accept(head: ResponseHead): void {
    const protocol = headerValue(head.headers, 'sec-websocket-protocol');
    // ws writes the service's choice only where the client offered some; one chosen from no offer goes on
    // too, so the client fails the handshake as it would directly (RFC 6455 section 4.1).
    const unoffered = protocol !== undefined && this.req.headers['sec-websocket-protocol'] === undefined;
    const kept = head.headers.filter((h) => {
      const name = h.name.toLowerCase();
      return (unoffered && name === 'sec-websocket-protocol') || !['upgrade', 'connection', 'sec-websocket-protocol', 'sec-websocket-extensions', ...handshakeHeaders].includes(name);
    });
    acceptedHandshakes.set(this.req, { protocol, headers: kept.map((h) => `${h.name}: ${h.value}`) });
    // Compression only where the local service agreed to it too.
    if (!/permessage-deflate/i.test(headerValue(head.headers, 'sec-websocket-extensions') ?? '')) delete this.req.headers['sec-websocket-extensions'];
    this.options.wss.handleUpgrade(this.req, this.socket, this.head, (ws: WebSocket) => {
      this.relay = new WebSocketRelay(
        ws,
        { window: this.peer.windowBytes, maxMessageBytes: this.options.maxMessageBytes },
        {
          sendFrame: (frame) => {
            this.frameBytes.in += frame.payload.length;
            this.send({ $case: 'wsFrame', value: frame });
          },
          sendGrant: (bytes) => this.send({ $case: 'windowUpdate', value: { bytes } }),
          closed: (farEndSilent) => (farEndSilent ? this.fail(ErrorCode.Timeout, this.describe(farEndSilence), true) : this.finish()),
        },
      );
      if (this.goingAway) this.relay.goAway(serverGoingAway);
    });
  }

  /** The local service answered the upgrade with a plain HTTP response: pass it on as is. */
  private refuse(head: ResponseHead): void {
    this.refused = true;
    const lines = [`HTTP/1.1 ${head.status} ${head.statusMessage}`];
    for (const h of head.headers) if (h.name.toLowerCase() !== 'connection') lines.push(`${h.name}: ${h.value}`);
    lines.push('Connection: close', '', '');
    // Fields and reason cross the tunnel as their bytes read as latin1 (a UTF-8 "é" went out as four bytes).
    this.socket.write(lines.join('\r\n'), 'latin1');
    if (head.endStream) {
      this.socket.end();
      this.finish();
      return;
    }
    this.receiveBody(writableSink(this.socket), () => {
      this.socket.end();
      this.finish();
    });
  }

  protected release(failure: ExchangeFailure | undefined): void {
    if (failure === undefined) return;
    // Before the handshake was answered, the client gets the error's status.
    this.outcome.failed(failure.code, this.relay === undefined && !this.refused);
    if (this.relay !== undefined) this.relay.terminate();
    else if (!this.refused && failure.code !== ErrorCode.ClientGone && this.socket.writable) this.socket.end(rawErrorAnswer(failure.code, failure.message));
    else this.socket.destroy();
  }
}
