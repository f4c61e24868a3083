// One public request forwarded by the agent to the local HTTP service, with
// both bodies streamed under per-request credit.
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ProtocolType, type Header, type RequestHead, type TunnelMessage } from '../../gen/burrow/v1/tunnel.js';
import { inlineBodyMaxBytes } from '../config.js';
import { ErrorCode, TunnelError } from '../errors.js';
import { CreditedReceiver, CreditedSender } from '../flow-control.js';
import { headerValue, headersFromRaw, headersToRaw } from '../headers.js';
import { dataMessage, noBody, resetMessage } from '../messages.js';
import type { DataLink, LocalExchange } from './data-link.js';
import { ExchangeTraffic } from './exchange-traffic.js';
import { describeLocalError } from './local-errors.js';
import type { LocalHttpPools } from './local-http-pools.js';
import { formatLocalTarget, type LocalTarget } from './local-target.js';

const http = ProtocolType.PROTOCOL_TYPE_HTTP;

/** undici hands raw headers over as bytes; Node's parser would have read them as latin1 too. */
const rawStrings = (raw: readonly Buffer[] | null): string[] => (raw ?? []).map((b) => b.toString('latin1'));

export class LocalHttpExchange implements LocalExchange {
  /** Fed by the server's body chunks, read by undici. */
  private requestBody: Readable | undefined;
  private upload: CreditedReceiver | undefined;
  /** Fed by undici, read by the credited sender; undefined while collecting a small body. */
  private responseBody: Readable | undefined;
  private collected: Buffer[] | undefined;
  private responseHead: { status: number; statusMessage: string; headers: Header[] } | undefined;
  private download: CreditedSender | undefined;
  private abortLocal: ((error: Error) => void) | undefined;
  private resumeLocal: (() => void) | undefined;
  private trailers: string[] = [];
  private readonly traffic: ExchangeTraffic;
  private done = false;

  constructor(
    private readonly requestId: string,
    private readonly head: RequestHead,
    private readonly target: LocalTarget,
    private readonly link: DataLink,
    private readonly pools: LocalHttpPools,
    private readonly onDone: () => void,
  ) {
    this.traffic = new ExchangeTraffic(requestId, link.traffic);
  }

  start(): void {
    const { head } = this;
    this.traffic.started(head, 'http');
    // The edge already answered any Expect: 100-continue; undici refuses the header.
    const headers = headersToRaw(head.headers.filter((h) => h.name.toLowerCase() !== 'expect'));
    headers.push('X-Forwarded-For', head.remoteAddress, 'X-Forwarded-Proto', head.scheme || 'http');
    const host = headerValue(head.headers, 'host');
    if (host !== undefined) headers.push('X-Forwarded-Host', host);
    let body: Buffer | Readable | undefined;
    if (head.endStream) {
      this.traffic.body('to-service', head.body);
      if (head.body.length > 0) body = head.body;
    } else {
      body = this.streamRequestBody();
    }
    this.pools.get(this.target).dispatch({ path: head.path, method: head.method as Dispatcher.HttpMethod, headers, body }, this.handler);
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
            this.upload.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength), data.length);
          }
          if (endStream) {
            this.requestBody?.push(null);
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

  /** A readable undici pulls the request body from; credit goes back as it drains. */
  private streamRequestBody(): Readable {
    // Chunks pushed past the stream's high-water mark: their credit goes back once undici reads on.
    let waiting: (() => void)[] = [];
    const body = new Readable({
      read: () => {
        const drained = waiting;
        waiting = [];
        for (const done of drained) done();
      },
    });
    this.requestBody = body;
    this.upload = new CreditedReceiver<Buffer>(
      (data, done) => {
        if (body.push(data)) done();
        else waiting.push(done);
      },
      this.link.windowBytes,
      (bytes) => this.link.send(dataMessage(this.requestId, http, { $case: 'windowUpdate', value: { bytes } })),
    );
    return body;
  }

  // undici's handler callbacks: the whole life of the local request.
  private readonly handler: Dispatcher.DispatchHandler = {
    onConnect: (abort) => {
      if (this.done) abort(new Error('request ended'));
      else this.abortLocal = abort;
    },
    onHeaders: (status, rawHeaders, resume, statusMessage) => {
      // 1xx interim responses are not forwarded; the final one follows.
      if (status < 200 || this.done) return true;
      this.resumeLocal = resume;
      this.onLocalResponse(status, statusMessage, rawStrings(rawHeaders));
      return true;
    },
    onData: (chunk) => {
      if (this.done) return true;
      if (this.collected !== undefined) {
        this.collected.push(chunk);
        return true;
      }
      return this.responseBody?.push(chunk) ?? true;
    },
    onComplete: (trailers) => this.onLocalEnd(trailers === null ? [] : rawStrings(trailers as unknown as Buffer[])),
    onError: (error) => this.onLocalError(error as NodeJS.ErrnoException),
  };

  private onLocalResponse(status: number, statusMessage: string, rawHeaders: string[]): void {
    const headers = headersFromRaw(rawHeaders);
    this.traffic.responded(status, headers);
    this.responseHead = { status, statusMessage, headers };
    // headersFromRaw drops Transfer-Encoding (hop-by-hop), so ask the raw list.
    const chunked = rawHeaderValue(rawHeaders, 'transfer-encoding') !== undefined;
    const length = chunked ? NaN : Number(rawHeaderValue(rawHeaders, 'content-length') ?? NaN);
    const bodiless = this.head.method === 'HEAD' || status === 204 || status === 304 || length === 0;
    if (bodiless || length <= inlineBodyMaxBytes) {
      // Small body of known length: one message with the head.
      this.collected = [];
      return;
    }
    this.link.send(dataMessage(this.requestId, http, { $case: 'responseHead', value: { ...this.responseHead, endStream: false, body: noBody } }));
    const body = new Readable({ read: () => this.resumeLocal?.() });
    this.responseBody = body;
    this.download = new CreditedSender(body, this.link.windowBytes, {
      chunk: (data) => {
        this.traffic.body('to-client', data);
        this.link.send(dataMessage(this.requestId, http, { $case: 'bodyChunk', value: { data, endStream: false } }));
      },
      end: () => {
        const trailers = this.trailers;
        if (trailers.length > 0) {
          this.link.send(dataMessage(this.requestId, http, { $case: 'trailers', value: { headers: headersFromRaw(trailers) } }));
        } else {
          this.link.send(dataMessage(this.requestId, http, { $case: 'bodyChunk', value: { data: noBody, endStream: true } }));
        }
        this.finish();
      },
    });
  }

  private onLocalEnd(trailers: string[]): void {
    if (this.done) return;
    if (this.responseHead === undefined) {
      this.fail(ErrorCode.LocalFailed, `local service at ${formatLocalTarget(this.target)} ended without a response`, true);
    } else if (this.collected !== undefined) {
      const body = Buffer.concat(this.collected);
      this.traffic.body('to-client', body);
      this.link.send(dataMessage(this.requestId, http, { $case: 'responseHead', value: { ...this.responseHead, endStream: true, body } }));
      this.finish();
    } else {
      // The credited sender sends the end once the body has drained.
      this.trailers = trailers;
      this.responseBody?.push(null);
    }
  }

  private onLocalError(error: NodeJS.ErrnoException): void {
    if (this.done) return;
    const where = `local service at ${formatLocalTarget(this.target)}`;
    if (this.responseHead === undefined) {
      this.fail(ErrorCode.LocalUnreachable, `${where}: ${describeLocalError(error)}`, true);
    } else if (error.code === 'UND_ERR_SOCKET') {
      // The service closed the connection mid-body.
      this.fail(ErrorCode.LocalFailed, `${where} closed the response before its end`, true);
    } else {
      this.fail(ErrorCode.LocalFailed, `${where} failed mid-response: ${describeLocalError(error)}`, true);
    }
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
    this.abortLocal?.(new TunnelError(code, message));
    this.requestBody?.destroy();
    this.responseBody?.destroy();
    this.traffic.failed(code, message);
    this.onDone();
  }
}

function rawHeaderValue(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === lowerName) return raw[i + 1];
  return undefined;
}
