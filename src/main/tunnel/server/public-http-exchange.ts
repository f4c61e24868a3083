// A public HTTP request carried to the agent and its response carried back,
// both bodies streamed under per-request credit.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProtocolType, type TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import { inlineBodyMaxBytes, type ServerLimits } from '../config.js';
import { ErrorCode, TunnelError } from '../errors.js';
import { CreditedReceiver, CreditedSender, writableSink } from '../flow-control.js';
import { headersFromRaw, headersToRaw } from '../headers.js';
import { dataMessage, noBody, resetMessage } from '../messages.js';
import type { AgentSession } from './agent-session.js';
import { guardAgentMessage, type Exchange } from './exchange.js';
import { respondWithError } from './public-errors.js';

const http = ProtocolType.PROTOCOL_TYPE_HTTP;

export class PublicHttpExchange implements Exchange {
  private upload: CreditedSender | undefined;
  private download: CreditedReceiver | undefined;
  private headTimer: NodeJS.Timeout | undefined;
  private headSent = false;
  private done = false;

  constructor(
    readonly requestId: string,
    private readonly tunnel: string,
    private readonly session: AgentSession,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly onDone: () => void,
    private readonly limits: Pick<ServerLimits, 'maxBodyBytes' | 'idleTimeoutMs'> = { maxBodyBytes: 0, idleTimeoutMs: 0 },
  ) {}

  start(): void {
    const { req, res, session } = this;
    session.exchanges.set(this.requestId, this);
    res.on('close', () => {
      if (!this.done) this.fail(ErrorCode.ClientGone, 'public client went away', true);
    });
    const length = req.headers['transfer-encoding'] === undefined ? Number(req.headers['content-length'] ?? 0) : NaN;
    if (length > 0 && length <= inlineBodyMaxBytes) {
      // Small body of known length: read it all and send it with the head.
      // A client that stalls mid-body must not hold its slot forever.
      this.headTimer = setTimeout(
        () => this.fail(ErrorCode.ClientTimeout, `the request body did not arrive within ${session.config.requestTimeoutMs} ms`, false),
        session.config.requestTimeoutMs,
      );
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk) && this.checkBodySize(chunk.length));
      req.once('end', () => this.done || this.sendHead(Buffer.concat(chunks), true));
    } else {
      this.sendHead(noBody, length === 0);
    }
  }

  private sendHead(body: Buffer, endStream: boolean): void {
    const { req, session } = this;
    const sent = session.sendData(
      dataMessage(this.requestId, http, {
        $case: 'requestHead',
        value: {
          tunnel: this.tunnel,
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: headersFromRaw(req.rawHeaders),
          remoteAddress: req.socket.remoteAddress ?? '',
          scheme: 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http',
          endStream,
          timeoutMs: 0n,
          body,
        },
      }),
    );
    if (!sent) {
      this.fail(ErrorCode.TunnelOffline, `tunnel ${this.tunnel}: the agent's data stream is down`, false);
      return;
    }
    this.headSent = true;
    clearTimeout(this.headTimer);
    this.headTimer = setTimeout(() => {
      this.fail(ErrorCode.Timeout, `tunnel ${this.tunnel}: no response from the local service in ${session.config.requestTimeoutMs} ms`, true);
    }, session.config.requestTimeoutMs);
    if (!endStream) {
      this.upload = new CreditedSender(req, session.config.initialWindowBytes, {
        chunk: (data) =>
          this.checkBodySize(data.length) &&
          session.sendData(dataMessage(this.requestId, http, { $case: 'bodyChunk', value: { data, endStream: false } })),
        end: () => session.sendData(dataMessage(this.requestId, http, { $case: 'bodyChunk', value: { data: noBody, endStream: true } })),
      });
    }
  }

  private bodyBytes = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  /**
   * Like a reverse proxy's read and send timeouts: a response that makes no
   * progress this long (no chunk from the agent, no write drained by the
   * client) is cut, so a stream that goes quiet for good ends definitely.
   */
  private watchResponseIdle(): void {
    const { idleTimeoutMs } = this.limits;
    if (idleTimeoutMs === 0) return;
    this.idleTimer = setTimeout(
      () => this.fail(ErrorCode.Timeout, `tunnel ${this.tunnel}: the response made no progress for ${idleTimeoutMs} ms`, true),
      idleTimeoutMs,
    );
    // A slow reader that keeps reading is progress too.
    this.res.on('drain', () => this.idleTimer?.refresh());
  }

  /** False (and the request failed with 413) once the body passes the tunnel's limit. */
  private checkBodySize(bytes: number): boolean {
    this.bodyBytes += bytes;
    const { maxBodyBytes } = this.limits;
    if (maxBodyBytes === 0 || this.bodyBytes <= maxBodyBytes) return true;
    this.res.shouldKeepAlive = false;
    this.fail(ErrorCode.BodyTooLarge, `request body is over this tunnel's limit of ${maxBodyBytes} bytes`, this.headSent);
    return false;
  }

  onAgentMessage(message: TunnelMessage): void {
    if (this.done) return;
    const payload = message.payload;
    guardAgentMessage(this.session, this.requestId, this.tunnel, () => {
      switch (payload?.$case) {
        case 'responseHead': {
          if (this.res.headersSent) throw new TunnelError(ErrorCode.Protocol, 'second response head');
          clearTimeout(this.headTimer);
          const head = payload.value;
          if (head.status < 200 || head.status > 599) throw new TunnelError(ErrorCode.Protocol, `response status ${head.status} is not a final HTTP status`);
          this.res.writeHead(head.status, head.statusMessage || undefined, headersToRaw(head.headers));
          if (head.endStream) this.finish(head.body);
          else {
            this.res.flushHeaders();
            this.watchResponseIdle();
            this.download = new CreditedReceiver(writableSink(this.res), this.session.config.initialWindowBytes, (bytes) =>
              this.session.sendData(dataMessage(this.requestId, http, { $case: 'windowUpdate', value: { bytes } })),
            );
          }
          return;
        }
        case 'bodyChunk': {
          if (this.download === undefined) throw new TunnelError(ErrorCode.Protocol, 'body before response head');
          this.idleTimer?.refresh();
          if (payload.value.data.length > 0) this.download.write(payload.value.data, payload.value.data.length);
          if (payload.value.endStream) this.finish();
          return;
        }
        case 'trailers': {
          if (this.download === undefined) throw new TunnelError(ErrorCode.Protocol, 'trailers before response head');
          this.res.addTrailers(payload.value.headers.map((h): [string, string] => [h.name, h.value]));
          this.finish();
          return;
        }
        case 'windowUpdate':
          this.upload?.grant(payload.value.bytes);
          return;
        case 'reset':
          this.fail(payload.value.code, payload.value.message, false);
          return;
        default:
          throw new TunnelError(ErrorCode.Protocol, `unexpected ${payload?.$case ?? 'empty'} message on an HTTP request`);
      }
    }, (code, message) => this.fail(code, message, true));
  }

  abort(code: string, message: string): void {
    this.fail(code, message, false);
  }

  private finish(body?: Buffer): void {
    // Headers and a small body leave in one write.
    this.res.end(body !== undefined && body.length > 0 ? body : undefined);
    // The local service answered before reading the whole upload; stop sending it.
    this.upload?.stop();
    this.cleanup();
  }

  /** Ends the request with an error; `tellAgent` when the agent does not know yet. */
  private fail(code: string, message: string, tellAgent: boolean): void {
    if (this.done) return;
    if (tellAgent) this.session.sendData(resetMessage(this.requestId, http, code, message));
    this.cleanup();
    if (code !== ErrorCode.ClientGone) respondWithError(this.res, code, message);
    this.upload?.stop();
    if (!this.req.complete) this.req.resume();
  }

  private cleanup(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.headTimer);
    clearTimeout(this.idleTimer);
    this.session.exchanges.delete(this.requestId);
    this.onDone();
  }
}
