// One public request forwarded by the agent to the local HTTP service, with
// both bodies streamed under per-request credit.
import { request as httpRequest, type Agent, type ClientRequest, type IncomingMessage } from 'node:http';
import { ProtocolType, type RequestHead, type TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import { inlineBodyMaxBytes } from '../config.js';
import { ErrorCode, TunnelError } from '../errors.js';
import { CreditedReceiver, CreditedSender, writableSink } from '../flow-control.js';
import { headerValue, headersFromRaw, headersToRaw } from '../headers.js';
import { dataMessage, noBody, resetMessage } from '../messages.js';
import type { DataLink, LocalExchange } from './data-link.js';
import { ExchangeTraffic } from './exchange-traffic.js';
import { describeLocalError } from './local-errors.js';
import { formatLocalTarget, type LocalTarget } from './local-target.js';

const http = ProtocolType.PROTOCOL_TYPE_HTTP;

export class LocalHttpExchange implements LocalExchange {
  private localRequest: ClientRequest | undefined;
  private localResponse: IncomingMessage | undefined;
  private upload: CreditedReceiver | undefined;
  private download: CreditedSender | undefined;
  private readonly traffic: ExchangeTraffic;
  private done = false;

  constructor(
    private readonly requestId: string,
    private readonly head: RequestHead,
    private readonly target: LocalTarget,
    private readonly link: DataLink,
    private readonly httpAgent: Agent,
    private readonly onDone: () => void,
  ) {
    this.traffic = new ExchangeTraffic(requestId, link.traffic);
  }

  start(): void {
    const { head, target } = this;
    this.traffic.started(head, 'http');
    const headers = headersToRaw(head.headers);
    headers.push('X-Forwarded-For', head.remoteAddress, 'X-Forwarded-Proto', head.scheme || 'http');
    const host = headerValue(head.headers, 'host');
    if (host !== undefined) headers.push('X-Forwarded-Host', host);
    const req = httpRequest({
      host: target.host,
      port: target.port,
      method: head.method,
      path: head.path,
      headers,
      agent: this.httpAgent,
    });
    this.localRequest = req;
    req.on('response', (res) => this.onLocalResponse(res));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (this.localResponse === undefined) {
        this.fail(ErrorCode.LocalUnreachable, `local service at ${formatLocalTarget(target)}: ${describeLocalError(error)}`, true);
      } else {
        this.fail(ErrorCode.LocalFailed, `local service at ${formatLocalTarget(target)} failed mid-response: ${describeLocalError(error)}`, true);
      }
    });
    if (head.endStream) {
      this.traffic.body('to-service', head.body);
      req.end(head.body.length > 0 ? head.body : undefined);
    } else {
      this.upload = new CreditedReceiver(writableSink(req), this.link.windowBytes, (bytes) =>
        this.link.send(dataMessage(this.requestId, http, { $case: 'windowUpdate', value: { bytes } })),
      );
    }
  }

  onServerMessage(message: TunnelMessage): void {
    if (this.done) return;
    const payload = message.payload;
    try {
      switch (payload?.$case) {
        case 'bodyChunk': {
          if (this.upload === undefined) throw new TunnelError(ErrorCode.Protocol, 'request body after end of stream');
          const { data, endStream } = payload.value;
          if (data.length > 0) {
            this.traffic.body('to-service', data);
            this.upload.write(data, data.length);
          }
          if (endStream) {
            this.localRequest?.end();
            this.upload = undefined;
          }
          return;
        }
        case 'windowUpdate':
          this.download?.grant(payload.value.bytes);
          return;
        case 'reset':
          this.fail(payload.value.code, payload.value.message, false);
          return;
        default:
          throw new TunnelError(ErrorCode.Protocol, `unexpected ${payload?.$case ?? 'empty'} message on an HTTP request`);
      }
    } catch (error) {
      const code = error instanceof TunnelError ? error.code : ErrorCode.Protocol;
      this.fail(code, (error as Error).message, true);
    }
  }

  abort(code: string, message: string): void {
    this.fail(code, message, false);
  }

  private onLocalResponse(res: IncomingMessage): void {
    this.localResponse = res;
    const status = res.statusCode ?? 502;
    const headers = headersFromRaw(res.rawHeaders);
    this.traffic.responded(status, headers);
    const responseHead = { status, statusMessage: res.statusMessage ?? '', headers };
    const length = res.headers['transfer-encoding'] === undefined ? Number(res.headers['content-length']) : NaN;
    const bodiless = this.head.method === 'HEAD' || status === 204 || status === 304 || length === 0;
    // A service that dies mid-body ends the response without 'end' (and the request emits no error).
    const cutShort = (): void => {
      if (!res.complete) this.fail(ErrorCode.LocalFailed, `local service at ${formatLocalTarget(this.target)} closed the response before its end`, true);
    };
    res.on('error', cutShort);
    res.once('close', cutShort);
    if (bodiless || length <= inlineBodyMaxBytes) {
      // Small body of known length: one message with the head.
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () => {
        const body = Buffer.concat(chunks);
        this.traffic.body('to-client', body);
        this.link.send(dataMessage(this.requestId, http, { $case: 'responseHead', value: { ...responseHead, endStream: true, body } }));
        this.finish();
      });
      return;
    }
    this.link.send(dataMessage(this.requestId, http, { $case: 'responseHead', value: { ...responseHead, endStream: false, body: noBody } }));
    this.download = new CreditedSender(res, this.link.windowBytes, {
      chunk: (data) => {
        this.traffic.body('to-client', data);
        this.link.send(dataMessage(this.requestId, http, { $case: 'bodyChunk', value: { data, endStream: false } }));
      },
      end: () => {
        if (res.rawTrailers.length > 0) {
          this.link.send(dataMessage(this.requestId, http, { $case: 'trailers', value: { headers: headersFromRaw(res.rawTrailers) } }));
        } else {
          this.link.send(dataMessage(this.requestId, http, { $case: 'bodyChunk', value: { data: noBody, endStream: true } }));
        }
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

  /** Ends the request with an error; `tellServer` when the server does not know yet. */
  private fail(code: string, message: string, tellServer: boolean): void {
    if (this.done) return;
    this.done = true;
    if (tellServer) this.link.send(resetMessage(this.requestId, http, code, message));
    this.download?.stop();
    this.localRequest?.destroy();
    this.localResponse?.destroy();
    this.traffic.failed(code, message);
    this.onDone();
  }
}
