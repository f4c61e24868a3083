// A public WebSocket forwarded by the agent: opens the local WebSocket,
// reports the handshake's outcome (accepted, or the HTTP refusal as is),
// then relays frames both ways. permessage-deflate is offered to the local
// service only when the public client offered it (see
// public-websocket-exchange.ts for why each hop negotiates its own).
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { ProtocolType, type RequestHead } from '../../gen/burrow/v1/tunnel.js';
import type { TrafficEvent } from '../../../shared/traffic.js';
import { ErrorCode, BurrowError } from '../errors.js';
import { Exchange, type ExchangeFailure, type Payload } from '../exchange.js';
import { isForwardedField } from '../forwarded-field-names.js';
import { allHeadersFromRaw, headersFromRaw, headerValue, withoutHopByHop } from '../headers.js';
import { noBody } from '../messages.js';
import { farEndSilence, Opcode, WebSocketRelay } from '../websocket-relay.js';
import { ExchangeTraffic } from './exchange-traffic.js';
import { describeLocalError } from './local-errors.js';
import type { LocalExchangeContext } from './local-exchange-context.js';
import { formatLocalTarget, type LocalTarget } from './local-target.js';

export type WebSocketInjectTo = 'service' | 'client';

/**
 * Handshake headers the local WebSocket client makes itself (the edge sends
 * the public client's, for the inspector). Not Sec-WebSocket-Protocol: the
 * client's offer goes on as it came (see start()).
 */
const ownHandshakeHeaders = new Set(['sec-websocket-extensions', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-accept']);

const agentGoingAway = 'the tunnel agent is shutting down';

export class LocalWebSocketExchange extends Exchange {
  /** Its side is stopping (goAway()): the socket closes as going away once open. */
  private goingAway = false;
  private ws: WebSocket | undefined;
  private relay: WebSocketRelay | undefined;
  private readonly traffic: ExchangeTraffic;
  private readonly head: RequestHead;
  private readonly target: LocalTarget;
  private readonly emit: (event: TrafficEvent) => void;
  /** The message limit both hops enforce, from the server's config. */
  private readonly maxMessageBytes: number;
  /** ConfigSync.vouches_forwarded_fields: the X-Forwarded-* fields that came are a trusted proxy's. */
  private readonly vouchesForwardedFields: boolean;

  constructor(context: LocalExchangeContext) {
    super(context.requestId, ProtocolType.PROTOCOL_TYPE_WEBSOCKET, context.link, context.ended);
    ({ head: this.head, target: this.target, emit: this.emit } = context);
    this.maxMessageBytes = context.link.maxWebSocketMessageBytes;
    this.vouchesForwardedFields = context.link.vouchesForwardedFields;
    this.traffic = this.observer = new ExchangeTraffic(context.requestId, context.emit);
  }

  start(): void {
    const { head, target } = this;
    this.traffic.started(head, 'websocket');
    // Each field as the client wrote its name, a repeated one as repeated lines (Node joins only Cookie, with "; ").
    // No prototype: a field may be named `constructor` or `__proto__`.
    const headers: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
    const sentAs = new Map<string, string>();
    const add = (name: string, value: string): void => {
      const lower = name.toLowerCase();
      let key = sentAs.get(lower);
      if (key === undefined) sentAs.set(lower, (key = name));
      (headers[key] ??= []).push(value);
    };
    // A client's own X-Forwarded-* and the like, where an older server let them through (ConfigSync.vouches_forwarded_fields).
    const vouched = this.vouchesForwardedFields;
    for (const h of withoutHopByHop(head.headers)) {
      const lower = h.name.toLowerCase();
      if (ownHandshakeHeaders.has(lower) || (!vouched && isForwardedField(lower))) continue;
      add(h.name, h.value);
    }
    // After any the edge let through (a trusted proxy's, forwarded-fields.ts), each a field of its own, as over HTTP.
    const own: [string, string | undefined][] = [
      ['x-forwarded-for', head.remoteAddress],
      ['x-forwarded-proto', head.scheme || 'http'],
      ['x-forwarded-host', headerValue(head.headers, 'host')],
    ];
    for (const [name, value] of own) if (value !== undefined) add(name, value);
    // The offer goes as a header, not as ws's protocols: ws refuses an answer
    // that picks none of them, which RFC 6455 (section 4.2.2) allows a service.
    const ws = new WebSocket(requestTargetAsSent(`ws://${formatLocalTarget(target)}/`, head.path), [], {
      headers,
      autoPong: false,
      perMessageDeflate: /permessage-deflate/i.test(headerValue(head.headers, 'sec-websocket-extensions') ?? ''),
      followRedirects: false,
      maxPayload: this.maxMessageBytes,
      // The client's version (ws's edge takes 8 and 13), so that a service that takes only 13 refuses 8 as directly.
      protocolVersion: headerValue(head.headers, 'sec-websocket-version')?.trim() === '8' ? 8 : 13,
    });
    this.ws = ws;
    let upgradeHeaders: string[] = [];
    ws.on('upgrade', (res: IncomingMessage) => {
      upgradeHeaders = res.rawHeaders;
      // The service's choice, or none, goes on to the client as it came, in the raw headers; ws, told of no offer, would refuse any.
      delete res.headers['sec-websocket-protocol'];
    });
    // 'open' comes once ws has checked the handshake: only then is it accepted.
    ws.on('open', () => this.onOpen(ws, upgradeHeaders));
    ws.on('unexpected-response', (_req, res: IncomingMessage) => this.onRefused(res));
    ws.on('error', (error: NodeJS.ErrnoException) => {
      if (this.traffic.status === 0) this.fail(ErrorCode.LocalUnreachable, `local service at ${formatLocalTarget(target)}: ${describeLocalError(error)}`, true);
    });
  }

  private onOpen(ws: WebSocket, rawHeaders: string[]): void {
    if (!this.isOpen) return;
    // The inspector shows the handshake's answer in full; the edge gets what crosses a hop.
    this.traffic.responded(101, allHeadersFromRaw(rawHeaders));
    this.send({ $case: 'responseHead', value: { status: 101, statusMessage: 'Switching Protocols', headers: headersFromRaw(rawHeaders), endStream: false, body: noBody } });
    this.relay = new WebSocketRelay(
      ws,
      { window: this.peer.windowBytes, maxMessageBytes: this.maxMessageBytes },
      {
        sendFrame: (frame) => this.send({ $case: 'wsFrame', value: frame }),
        sendGrant: (bytes) => this.send({ $case: 'windowUpdate', value: { bytes } }),
        observe: (message, fromSocket, injected) => {
          const direction = fromSocket ? 'to-client' : 'to-service';
          this.traffic.counted(direction, message.size);
          this.emit({
            kind: 'ws-frame',
            requestId: this.requestId,
            direction,
            opcode: message.opcode,
            fin: true,
            size: message.size,
            data: message.payload,
            ...(message.opcode === 8 && { closeCode: message.closeCode, closeReason: message.closeReason }),
            ...(injected && { injected }),
            at: Date.now(),
          });
        },
        closed: (farEndSilent) => (farEndSilent ? this.fail(ErrorCode.Timeout, farEndSilence, true) : this.finish()),
      },
    );
    if (this.goingAway) this.relay.goAway(agentGoingAway);
  }

  /** A message from the inspector into this open connection: to the local service, or to the public client as if the service sent it. */
  inject(to: WebSocketInjectTo, binary: boolean, payload: Buffer): void {
    if (this.relay === undefined || !this.isOpen) throw new BurrowError(ErrorCode.Conflict, 'the WebSocket is not open');
    this.relay.inject(binary ? Opcode.Binary : Opcode.Text, payload, to === 'service' ? 'socket' : 'tunnel');
  }

  override goAway(): void {
    // Mid-handshake: it goes away once open.
    this.goingAway = true;
    this.relay?.goAway(agentGoingAway);
  }

  protected onPayload(payload: Payload): void {
    if (payload.$case !== 'wsFrame') throw new BurrowError(ErrorCode.Protocol, `unexpected ${payload.$case} message on a WebSocket`);
    if (this.relay === undefined) throw new BurrowError(ErrorCode.Protocol, 'frame before the handshake');
    this.relay.deliver(payload.value);
  }

  protected onGrant(bytes: number): void {
    if (this.relay !== undefined) this.relay.grant(bytes);
    else super.onGrant(bytes);
  }

  /** The local service answered the upgrade with plain HTTP: relay that response. */
  private onRefused(res: IncomingMessage): void {
    if (!this.isOpen) return;
    const status = res.statusCode ?? 502;
    const headers = headersFromRaw(res.rawHeaders);
    this.traffic.responded(status, headers);
    this.send({ $case: 'responseHead', value: { status, statusMessage: res.statusMessage ?? '', headers, endStream: false, body: noBody } });
    this.streamBody(
      res,
      () => {
        this.sendBodyEnd();
        this.finish();
      },
      (parts) => {
        for (const data of parts) this.traffic.body('to-client', data, true);
        return true;
      },
    );
  }

  protected release(failure: ExchangeFailure | undefined): void {
    if (failure === undefined) return;
    if (this.relay !== undefined) this.relay.terminate();
    else this.ws?.terminate();
  }
}

/**
 * The service's URL, with the request target as the client sent it, as over
 * HTTP: ws takes the target from the URL's pathname and search, which
 * resolve dot segments and escape quotes. Node's http.request still checks
 * it (no spaces or controls), and writes it at once when the head has
 * `Expect` (setting the request's path later came too late then).
 */
function requestTargetAsSent(service: string, target: string): URL {
  const url = new URL(service);
  Object.defineProperties(url, { pathname: { value: target }, search: { value: '' } });
  return url;
}
