// The agent's side of the data stream: a request head starts the local
// exchange its protocol calls for (HTTP/1.1, HTTP/2 or WebSocket to the
// tunnel's local service); every later message goes to its exchange by
// request_id. Owns the connections to local services, shared by exchanges.
import { ProtocolType, type RequestHead, type TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import type { TrafficEvent } from '../../../shared/traffic.js';
import { BurrowError, ErrorCode } from '../errors.js';
import type { Exchange } from '../exchange.js';
import { IdMap } from '../id-map.js';
import { resetMessage } from '../messages.js';
import { Http2SessionPool } from './http2-session-pool.js';
import type { DataLink, LocalExchangeContext } from './local-exchange-context.js';
import { LocalGrpcExchange } from './local-grpc-exchange.js';
import { LocalHttpClient } from './local-http-client.js';
import { LocalHttpExchange } from './local-http-exchange.js';
import type { LocalTarget } from './local-target.js';
import { LocalWebSocketExchange, type WebSocketInjectTo } from './local-websocket-exchange.js';
import { maxLocalConnections } from '../config.js';

export type { DataLink } from './local-exchange-context.js';
export type { WebSocketInjectTo } from './local-websocket-exchange.js';

export class LocalExchanges {
  private readonly exchanges = new IdMap<{ exchange: Exchange; link: DataLink }>();
  private readonly httpClient: LocalHttpClient;
  private readonly http2Sessions = new Http2SessionPool();
  private readonly idleWaiters: (() => void)[] = [];
  /** goAway() was called: requests that still come (sent before the edge heard) hear it as they start. */
  private goingAway = false;

  constructor(
    /** The local service of a live tunnel, by its name (and the request, for a target chosen per request). */
    private readonly targetOf: (tunnel: string, requestId: string) => LocalTarget | undefined,
    private readonly emit: (event: TrafficEvent) => void,
    /** HTTP/1.1 connections to each target at most (config.ts); an edge forwarding to another carries many clients. */
    maxConnections = maxLocalConnections,
  ) {
    this.httpClient = new LocalHttpClient(maxConnections);
  }

  /** Requests being forwarded right now. */
  get size(): number {
    return this.exchanges.size;
  }

  receive(message: TunnelMessage, link: DataLink): void {
    const existing = this.exchanges.get(message.requestId);
    if (existing !== undefined) {
      existing.exchange.receive(message);
      return;
    }
    if (message.payload?.$case === 'requestHead') this.start(message.requestId, message.protocolType, message.payload.value, link);
    // Anything else is a late message for a request that already ended.
  }

  /** Sends a message from the inspector into an open WebSocket (see LocalWebSocketExchange.inject). */
  injectWebSocketMessage(requestId: string, to: WebSocketInjectTo, binary: boolean, payload: Buffer): void {
    const exchange = this.exchanges.get(requestId)?.exchange;
    if (exchange === undefined) throw new BurrowError(ErrorCode.Conflict, `request ${requestId} is not open on this agent`);
    if (!(exchange instanceof LocalWebSocketExchange)) throw new BurrowError(ErrorCode.InvalidInput, `request ${requestId} is not a WebSocket`);
    exchange.inject(to, binary, payload);
  }

  /** Aborts the exchanges of requests that came on `link`, or all. */
  abortAll(code: string, message: string, link?: DataLink): void {
    for (const entry of this.exchanges.values()) {
      if (link !== undefined && entry.link !== link) continue;
      this.forget(entry.exchange.requestId);
      entry.exchange.abort(code, message);
    }
  }

  /** The agent is stopping and lets them finish: each hears so (a WebSocket closes as going away). Returns how many are under way. */
  goAway(): number {
    this.goingAway = true;
    for (const entry of this.exchanges.values()) entry.exchange.goAway();
    return this.exchanges.size;
  }

  /** Resolves once no request is under way: at once when none is, else in the turn the last one ends. */
  idle(): Promise<void> {
    if (this.exchanges.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.httpClient.close();
    this.http2Sessions.close();
  }

  private forget(requestId: string): void {
    this.exchanges.delete(requestId);
    if (this.exchanges.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private start(requestId: string, protocol: ProtocolType, head: RequestHead, link: DataLink): void {
    const target = this.targetOf(head.tunnel, requestId);
    if (target === undefined) {
      link.send(resetMessage(requestId, protocol, ErrorCode.NoTunnel, `this agent has no tunnel ${head.tunnel}`));
      return;
    }
    const context: LocalExchangeContext = { requestId, head, target, link, emit: this.emit, ended: () => this.forget(requestId) };
    let exchange: LocalHttpExchange | LocalWebSocketExchange | LocalGrpcExchange;
    switch (protocol) {
      case ProtocolType.PROTOCOL_TYPE_WEBSOCKET:
        exchange = new LocalWebSocketExchange(context);
        break;
      case ProtocolType.PROTOCOL_TYPE_GRPC:
        exchange = new LocalGrpcExchange(context, this.http2Sessions);
        break;
      case ProtocolType.PROTOCOL_TYPE_HTTP:
        exchange = new LocalHttpExchange(context, this.httpClient);
        break;
      default:
        link.send(resetMessage(requestId, protocol, ErrorCode.Protocol, `unsupported protocol ${protocol}`));
        return;
    }
    this.exchanges.set(requestId, { exchange, link });
    try {
      exchange.start();
      if (this.goingAway) exchange.goAway();
    } catch (error) {
      // A head the local client refuses (say, a method Node cannot send) fails this request only.
      const message = `could not forward the request: ${(error as Error).message}`;
      exchange.abort(ErrorCode.LocalFailed, message);
      link.send(resetMessage(requestId, protocol, ErrorCode.LocalFailed, message));
    }
  }
}
