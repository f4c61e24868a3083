// A public WebSocket upgrade carried to the agent: the handshake goes first
// (the local service decides), then frames flow both ways.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { ProtocolType, type ResponseHead, type TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import { ErrorCode, TunnelError, httpStatusFor } from '../errors.js';
import { CreditedReceiver, writableSink } from '../flow-control.js';
import { headersFromRaw, headerValue } from '../headers.js';
import { dataMessage, noBody, resetMessage } from '../messages.js';
import { WebSocketRelay } from '../websocket-relay.js';
import type { AgentSession } from './agent-session.js';
import { guardAgentMessage, type Exchange } from './exchange.js';

const websocket = ProtocolType.PROTOCOL_TYPE_WEBSOCKET;

/** Handshake headers each hop makes for itself. */
const handshakeHeaders = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-accept']);

/** What the server's WebSocketServer needs to finish a handshake the local service accepted. */
export interface AcceptedHandshake {
  protocol: string | undefined;
  /** Extra response headers from the local service (cookies and the like). */
  headers: string[];
}

export const acceptedHandshakes = new WeakMap<IncomingMessage, AcceptedHandshake>();

export class PublicWebSocketExchange implements Exchange {
  private relay: WebSocketRelay | undefined;
  /** Body of a refused upgrade, relayed raw to the socket. */
  private refusal: CreditedReceiver | undefined;
  private headTimer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    readonly requestId: string,
    private readonly tunnel: string,
    private readonly session: AgentSession,
    private readonly req: IncomingMessage,
    private readonly socket: Duplex,
    private readonly head: Buffer,
    private readonly wss: WebSocketServer,
    private readonly onDone: () => void,
  ) {}

  start(): void {
    const { req, session } = this;
    session.exchanges.set(this.requestId, this);
    this.socket.on('error', () => {});
    this.socket.once('close', () => {
      if (this.relay === undefined && !this.done) this.fail(ErrorCode.ClientGone, 'public client went away', true);
    });
    const sent = session.sendData(
      dataMessage(this.requestId, websocket, {
        $case: 'requestHead',
        value: {
          tunnel: this.tunnel,
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: headersFromRaw(req.rawHeaders).filter((h) => !handshakeHeaders.has(h.name.toLowerCase())),
          remoteAddress: req.socket.remoteAddress ?? '',
          scheme: 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http',
          endStream: true,
          timeoutMs: 0n,
          body: noBody,
        },
      }),
    );
    if (!sent) {
      this.fail(ErrorCode.TunnelOffline, `tunnel ${this.tunnel}: the agent's data stream is down`, false);
      return;
    }
    this.headTimer = setTimeout(
      () => this.fail(ErrorCode.Timeout, `tunnel ${this.tunnel}: no handshake answer from the local service in ${session.config.requestTimeoutMs} ms`, true),
      session.config.requestTimeoutMs,
    );
  }

  onAgentMessage(message: TunnelMessage): void {
    if (this.done) return;
    const payload = message.payload;
    guardAgentMessage(this.session, this.requestId, this.tunnel, () => {
      switch (payload?.$case) {
        case 'responseHead':
          clearTimeout(this.headTimer);
          if (this.relay !== undefined || this.refusal !== undefined) throw new TunnelError(ErrorCode.Protocol, 'second handshake answer');
          if (payload.value.status === 101) this.accept(payload.value);
          else this.refuse(payload.value);
          return;
        case 'wsFrame':
          if (this.relay === undefined) throw new TunnelError(ErrorCode.Protocol, 'frame before the handshake');
          this.relay.deliver(payload.value);
          return;
        case 'bodyChunk':
          if (this.refusal === undefined) throw new TunnelError(ErrorCode.Protocol, 'body on an accepted WebSocket');
          if (payload.value.data.length > 0) this.refusal.write(payload.value.data, payload.value.data.length);
          if (payload.value.endStream) {
            this.socket.end();
            this.cleanup();
          }
          return;
        case 'windowUpdate':
          this.relay?.grant(payload.value.bytes);
          return;
        case 'reset':
          this.fail(payload.value.code, payload.value.message, false);
          return;
        default:
          throw new TunnelError(ErrorCode.Protocol, `unexpected ${payload?.$case ?? 'empty'} message on a WebSocket`);
      }
    }, (code, message) => this.fail(code, message, true));
  }

  abort(code: string, message: string): void {
    this.fail(code, message, false);
  }

  private accept(head: ResponseHead): void {
    const extra = head.headers.filter((h) => !['upgrade', 'connection', 'sec-websocket-protocol', ...handshakeHeaders].includes(h.name.toLowerCase()));
    acceptedHandshakes.set(this.req, {
      protocol: headerValue(head.headers, 'sec-websocket-protocol'),
      headers: extra.map((h) => `${h.name}: ${h.value}`),
    });
    this.wss.handleUpgrade(this.req, this.socket, this.head, (ws: WebSocket) => {
      this.relay = new WebSocketRelay(ws, this.session.config.initialWindowBytes, {
        sendFrame: (frame) => this.session.sendData(dataMessage(this.requestId, websocket, { $case: 'wsFrame', value: frame })),
        sendGrant: (bytes) => this.session.sendData(dataMessage(this.requestId, websocket, { $case: 'windowUpdate', value: { bytes } })),
        closed: () => this.cleanup(),
      });
    });
  }

  /** The local service answered the upgrade with a plain HTTP response: pass it on as is. */
  private refuse(head: ResponseHead): void {
    const lines = [`HTTP/1.1 ${head.status} ${head.statusMessage}`];
    for (const h of head.headers) if (h.name.toLowerCase() !== 'connection') lines.push(`${h.name}: ${h.value}`);
    lines.push('Connection: close', '', '');
    this.socket.write(lines.join('\r\n'));
    if (head.endStream) {
      this.socket.end();
      this.cleanup();
      return;
    }
    this.refusal = new CreditedReceiver(writableSink(this.socket), this.session.config.initialWindowBytes, (bytes) =>
      this.session.sendData(dataMessage(this.requestId, websocket, { $case: 'windowUpdate', value: { bytes } })),
    );
  }

  private fail(code: string, message: string, tellAgent: boolean): void {
    if (this.done) return;
    if (tellAgent) this.session.sendData(resetMessage(this.requestId, websocket, code, message));
    this.cleanup();
    if (this.relay !== undefined) {
      this.relay.terminate();
    } else if (this.refusal === undefined && code !== ErrorCode.ClientGone && this.socket.writable) {
      const body = `${message}\n`;
      this.socket.end(
        `HTTP/1.1 ${httpStatusFor(code)} ${code}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-burrow-error: ${code}\r\nconnection: close\r\n\r\n${body}`,
      );
    } else {
      this.socket.destroy();
    }
  }

  private cleanup(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.headTimer);
    this.session.exchanges.delete(this.requestId);
    this.onDone();
  }
}
