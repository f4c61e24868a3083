// A public WebSocket forwarded by the agent: opens the local WebSocket,
// reports the handshake's outcome (accepted, or the HTTP refusal as is),
// then relays frames both ways.
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { ProtocolType, type Header, type RequestHead, type TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import { grpcChannelOptions } from '../config.js';
import { ErrorCode, TunnelError } from '../errors.js';
import { CreditedSender } from '../flow-control.js';
import { headersFromRaw, headerValue } from '../headers.js';
import { dataMessage, noBody, resetMessage } from '../messages.js';
import { WebSocketRelay } from '../websocket-relay.js';
import type { DataLink, LocalExchange } from './data-link.js';
import { ExchangeTraffic } from './exchange-traffic.js';
import { describeLocalError } from './local-errors.js';
import { formatLocalTarget, type LocalTarget } from './local-target.js';

const websocket = ProtocolType.PROTOCOL_TYPE_WEBSOCKET;

export class LocalWebSocketExchange implements LocalExchange {
  private ws: WebSocket | undefined;
  private relay: WebSocketRelay | undefined;
  private refusal: CreditedSender | undefined;
  private readonly traffic: ExchangeTraffic;
  private done = false;

  constructor(
    private readonly requestId: string,
    private readonly head: RequestHead,
    private readonly target: LocalTarget,
    private readonly link: DataLink,
    private readonly onDone: () => void,
  ) {
    this.traffic = new ExchangeTraffic(requestId, link.traffic);
  }

  start(): void {
    const { head, target } = this;
    this.traffic.started(head, 'websocket');
    const offered = headerValue(head.headers, 'sec-websocket-protocol');
    const headers: Record<string, string> = {};
    for (const h of head.headers) {
      const lower = h.name.toLowerCase();
      if (lower === 'sec-websocket-protocol') continue;
      headers[lower] = lower in headers ? `${headers[lower]}, ${h.value}` : h.value;
    }
    headers['x-forwarded-for'] = head.remoteAddress;
    headers['x-forwarded-proto'] = head.scheme || 'http';
    const ws = new WebSocket(`ws://${formatLocalTarget(target)}${head.path}`, offered?.split(',').map((p) => p.trim()) ?? [], {
      headers,
      autoPong: false,
      perMessageDeflate: false,
      followRedirects: false,
      maxPayload: grpcChannelOptions['grpc.max_receive_message_length'] / 2,
    });
    this.ws = ws;
    let upgradeHeaders: Header[] = [];
    ws.on('upgrade', (res: IncomingMessage) => (upgradeHeaders = headersFromRaw(res.rawHeaders)));
    // 'open' comes once ws has checked the handshake: only then is it accepted.
    ws.on('open', () => {
      const responseHeaders = upgradeHeaders;
      this.traffic.responded(101, responseHeaders);
      this.link.send(dataMessage(this.requestId, websocket, { $case: 'responseHead', value: { status: 101, statusMessage: 'Switching Protocols', headers: responseHeaders, endStream: false, body: noBody } }));
      this.relay = new WebSocketRelay(ws, this.link.windowBytes, {
        sendFrame: (frame) => this.link.send(dataMessage(this.requestId, websocket, { $case: 'wsFrame', value: frame })),
        sendGrant: (bytes) => this.link.send(dataMessage(this.requestId, websocket, { $case: 'windowUpdate', value: { bytes } })),
        observe: (frame, fromSocket) => {
          this.traffic.body(fromSocket ? 'to-client' : 'to-service', frame.payload, true);
          this.link.traffic({
            kind: 'ws-frame',
            requestId: this.requestId,
            direction: fromSocket ? 'to-client' : 'to-service',
            opcode: frame.opcode,
            fin: frame.fin,
            size: frame.payload.length,
            data: frame.payload,
            ...(frame.opcode === 8 && { closeCode: frame.closeCode, closeReason: frame.closeReason }),
            at: Date.now(),
          });
        },
        closed: () => this.finish(),
      });
    });
    ws.on('unexpected-response', (_req, res: IncomingMessage) => this.onRefused(res));
    ws.on('error', (error: NodeJS.ErrnoException) => {
      if (this.traffic.status === 0) this.fail(ErrorCode.LocalUnreachable, `local service at ${formatLocalTarget(target)}: ${describeLocalError(error)}`, true);
    });
  }

  onServerMessage(message: TunnelMessage): void {
    if (this.done) return;
    const payload = message.payload;
    try {
      switch (payload?.$case) {
        case 'wsFrame':
          if (this.relay === undefined) throw new TunnelError(ErrorCode.Protocol, 'frame before the handshake');
          this.relay.deliver(payload.value);
          return;
        case 'windowUpdate':
          this.relay?.grant(payload.value.bytes);
          this.refusal?.grant(payload.value.bytes);
          return;
        case 'reset':
          this.fail(payload.value.code, payload.value.message, false);
          return;
        default:
          throw new TunnelError(ErrorCode.Protocol, `unexpected ${payload?.$case ?? 'empty'} message on a WebSocket`);
      }
    } catch (error) {
      const code = error instanceof TunnelError ? error.code : ErrorCode.Protocol;
      this.fail(code, (error as Error).message, true);
    }
  }

  abort(code: string, message: string): void {
    this.fail(code, message, false);
  }

  /** The local service answered the upgrade with plain HTTP: relay that response. */
  private onRefused(res: IncomingMessage): void {
    const status = res.statusCode ?? 502;
    const headers = headersFromRaw(res.rawHeaders);
    this.traffic.responded(status, headers);
    this.link.send(dataMessage(this.requestId, websocket, { $case: 'responseHead', value: { status, statusMessage: res.statusMessage ?? '', headers, endStream: false, body: noBody } }));
    this.refusal = new CreditedSender(res, this.link.windowBytes, {
      chunk: (data) => {
        this.traffic.body('to-client', data, true);
        this.link.send(dataMessage(this.requestId, websocket, { $case: 'bodyChunk', value: { data, endStream: false } }));
      },
      end: () => {
        this.link.send(dataMessage(this.requestId, websocket, { $case: 'bodyChunk', value: { data: noBody, endStream: true } }));
        this.finish();
      },
    });
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.traffic.ended();
    this.onDone();
  }

  private fail(code: string, message: string, tellServer: boolean): void {
    if (this.done) return;
    this.done = true;
    if (tellServer) this.link.send(resetMessage(this.requestId, websocket, code, message));
    this.refusal?.stop();
    if (this.relay !== undefined) this.relay.terminate();
    else this.ws?.terminate();
    this.traffic.failed(code, message);
    this.onDone();
  }
}
