// A public HTTP request or gRPC call carried to the agent and its response
// carried back, both bodies streamed under per-request credit, over either
// HTTP version (a PublicStream). HTTP and gRPC differ only in the policy:
// small bodies inline, body limits and timeouts for HTTP, the caller's
// deadline for gRPC.
import type { Header, ProtocolType } from '../../gen/burrow/v1/tunnel.js';
import { inlineBodyMaxBytes } from '../config.js';
import { ErrorCode, BurrowError } from '../errors.js';
import { Exchange, type ExchangeFailure, type Payload, type TunnelPeer } from '../exchange.js';
import { forwardableRequestTrailers, headerValue } from '../headers.js';
import { noBody } from '../messages.js';
import { RequestOutcome, type PublicRequestRecord } from './public-request-record.js';
import type { PublicStream } from './public-stream.js';

/** How long past a caller's deadline the edge waits for the service to end the call before ending it itself. */
const deadlineGraceMs = 1_000;

export interface PublicRequestPolicy {
  /** What the agent does with it: PROTOCOL_TYPE_HTTP (HTTP/1.1 to the service) or _GRPC (an HTTP/2 stream). */
  protocol: ProtocolType;
  /** What the caller made: a gRPC call, or an HTTP request (over either HTTP version). */
  kind: 'http' | 'grpc';
  /** Small request bodies of known length travel inside the head message. */
  inlineBody: boolean;
  /** Request body bytes before 413; 0 for no limit. */
  maxBodyBytes: number;
  /** No response head in this long: Timeout; 0 for none. */
  responseTimeoutMs: number;
  /** A response that makes no progress this long is cut; 0 for none. */
  idleTimeoutMs: number;
  /** The caller's own deadline (grpc-timeout), sent on to the agent; 0 for none. */
  deadlineMs: number;
}

export class PublicRequestExchange extends Exchange {
  private headSent = false;
  private responded = false;
  /** The service's 100 (Continue) has passed: a client holding its body for it has its go-ahead. */
  private continued = false;
  private bodyBytes = 0;
  private inlineBytes = { in: 0, out: 0 };
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly outcome: RequestOutcome;

  /** When the edge had read the request's head: the start of its timing. */
  private readonly receivedAt = Date.now();

  constructor(
    requestId: string,
    private readonly tunnel: string,
    peer: TunnelPeer,
    private readonly side: PublicStream,
    private readonly policy: PublicRequestPolicy,
    onEnded: () => void,
  ) {
    super(requestId, policy.protocol, peer, onEnded, `tunnel ${tunnel}`);
    this.outcome = new RequestOutcome(policy.kind);
  }

  /** What this request came to, for the access log and metrics (complete once it has ended). */
  record(): PublicRequestRecord {
    const { method, path } = this.side.head;
    return this.outcome.record({
      requestId: this.requestId,
      traceId: this.traceId,
      tunnel: this.tunnel,
      method,
      path,
      bytesIn: this.bodyBytesSent + this.inlineBytes.in,
      bytesOut: this.bodyBytesReceived + this.inlineBytes.out,
    });
  }

  start(): void {
    const { side, policy } = this;
    const started = Date.now();
    side.onGone((resetCode) => {
      // A gRPC caller cancels at its own deadline, often just before the
      // tunnel's timer for it: that is a deadline, not a caller giving up.
      // The edge may have read the call late, on a busy machine (100 ms of
      // slack took such a cut for a caller gone): a quarter of it, at most 500 ms.
      const slackMs = Math.min(500, policy.deadlineMs / 4);
      if (policy.deadlineMs > 0 && Date.now() - started >= policy.deadlineMs - slackMs) {
        this.fail(ErrorCode.Timeout, `the caller's deadline (grpc-timeout ${policy.deadlineMs} ms) passed`, true);
      } else {
        this.clientWentAway(resetCode);
      }
    });
    // The service has the same grpc-timeout and ends the call itself, in its own words, a moment later than
    // this timer would: the timer waits a little longer, for services that do not (and callers that do not cancel).
    if (policy.deadlineMs > 0) this.after(policy.deadlineMs + deadlineGraceMs, () => this.fail(ErrorCode.Timeout, 'deadline exceeded in the tunnel', true));
    const length = side.bodyLength;
    if (policy.inlineBody && length > 0 && length <= inlineBodyMaxBytes) this.sendHeadWithSmallBody(length);
    else this.sendHead(noBody, length === 0);
  }

  /**
   * A small body of known length goes with the head, in one message, when it
   * comes with it (in the same turn of the event loop). One that does not
   * is streamed behind the head as a large one is, so that the agent, and
   * its inspector, hear of the request while its client is still sending (a
   * stalled client's request was seen only when it gave up, or never).
   */
  private sendHeadWithSmallBody(length: number): void {
    const { body } = this.side;
    const chunks: Buffer[] = [];
    let bytes = 0;
    const take = (chunk: Buffer): void => {
      chunks.push(chunk);
      bytes += chunk.length;
      this.admitBody(chunk.length);
    };
    // A client that never ends a stream holding the whole body (HTTP/2) must not hold its slot forever; once the
    // body streams, the wait for a response judges a stall (sendHead), as for a large body.
    const stalled = this.after(this.peerTimeoutMs, () => this.fail(ErrorCode.ClientTimeout, `the request body did not arrive within ${this.peerTimeoutMs} ms`, this.headSent));
    const whole = (): void => {
      clearTimeout(stalled);
      clearImmediate(notWhole);
      if (!this.side.bodyComplete()) this.clientWentAway();
      else if (this.isOpen) this.sendHead(Buffer.concat(chunks), true);
    };
    body.on('data', take);
    body.once('end', whole);
    const notWhole = setImmediate(() => {
      if (!this.isOpen || body.readableEnded || bytes === length) return;
      body.off('data', take);
      body.off('end', whole);
      // What came so far goes again through the stream's own buffer, ahead of the rest, and is counted there.
      body.pause();
      for (const chunk of chunks.reverse()) body.unshift(chunk);
      this.bodyBytes -= bytes;
      clearTimeout(stalled);
      this.sendHead(noBody, false);
      body.resume();
    });
  }

  /** `resetCode`: the client's HTTP/2 RST_STREAM code, which an HTTP/2 service is reset with in turn (Reset.http2_error_code). */
  private clientWentAway(resetCode?: number): void {
    this.fail(ErrorCode.ClientGone, 'the public client went away', true, resetCode);
  }

  private get peerTimeoutMs(): number {
    return this.policy.responseTimeoutMs || 30_000;
  }

  private sendHead(body: Buffer, endStream: boolean): void {
    const { side, policy } = this;
    const { method, path, headers, remoteAddress, scheme, httpVersion } = side.head;
    this.inlineBytes.in = body.length;
    // Fields by name, not a `{ ...copy, more }` literal, which keeps young objects alive (test/unit/spread-copies.test.ts).
    const sent = this.send({
      $case: 'requestHead',
      value: { tunnel: this.tunnel, method, path, headers, remoteAddress, scheme, endStream, timeoutMs: BigInt(policy.deadlineMs), body, edgeWaitMs: Date.now() - this.receivedAt, httpVersion },
    });
    if (!sent) {
      this.fail(ErrorCode.TunnelOffline, this.describe(`the agent's data stream is down`), false);
      return;
    }
    this.headSent = true;
    // Counted from the request's last progress: an upload the service reads slowly for longer is not a service that never answers.
    const awaitingResponse =
      policy.responseTimeoutMs > 0
        ? this.after(policy.responseTimeoutMs, () => {
            if (this.responded) return;
            // The client stopped sending its body (with credit to send it): its timeout, not the service's. Not one
            // holding its body for a 100 the service has not sent (RFC 9110 section 10.1.1): the service is the slow one.
            const heldForContinue = !policy.inlineBody && !this.continued;
            if (this.bodyWaitsForSource && !heldForContinue) this.fail(ErrorCode.ClientTimeout, `the request body stopped coming: nothing for ${policy.responseTimeoutMs} ms`, true);
            else this.fail(ErrorCode.Timeout, this.describe(`no response from the local service in ${policy.responseTimeoutMs} ms`), true);
          })
        : undefined;
    if (!endStream) {
      this.streamBody(
        side.body,
        () => {
          // A body cut short must not reach the service as whole (a chunked one ends cleanly over HTTP/1.1).
          if (!side.bodyComplete()) {
            this.clientWentAway();
            return;
          }
          const refused = side.trailersRefused();
          if (refused !== undefined) {
            this.fail(ErrorCode.HeaderTooLarge, refused, true);
            return;
          }
          const trailers = forwardableRequestTrailers(side.trailers());
          if (trailers.length > 0) this.send({ $case: 'trailers', value: { headers: trailers } });
          else this.sendBodyEnd();
        },
        (_parts, length) => {
          awaitingResponse?.refresh();
          return this.admitBody(length);
        },
      );
    }
  }

  /** False (and the request failed with 413) once the body passes the tunnel's limit. */
  private admitBody(length: number): boolean {
    this.bodyBytes += length;
    const { maxBodyBytes } = this.policy;
    if (maxBodyBytes === 0 || this.bodyBytes <= maxBodyBytes) return true;
    this.fail(ErrorCode.BodyTooLarge, `request body is over this tunnel's limit of ${maxBodyBytes} bytes`, this.headSent);
    return false;
  }

  protected onPayload(payload: Payload): void {
    switch (payload.$case) {
      case 'responseHead': {
        if (this.responded) throw new BurrowError(ErrorCode.Protocol, 'second response head');
        const head = payload.value;
        if (head.status >= 100 && head.status < 200 && head.status !== 101 && !head.endStream) {
          // An interim response (ConfigSync.takes_interim_responses; a 100, takes_continue): the final one follows.
          this.side.inform(head.status, head.headers);
          if (head.status === 100) this.continued = true;
          return;
        }
        if (head.status < 200 || head.status > 599) throw new BurrowError(ErrorCode.Protocol, `response status ${head.status} is not a final HTTP status`);
        this.responded = true;
        this.outcome.responded(head.status, headerValue(head.headers, 'grpc-status'));
        if (head.endStream) {
          this.inlineBytes.out = head.body.length;
          this.side.respond(head.status, head.statusMessage, head.headers, head.body);
          this.side.cutIfUnread(this.policy.idleTimeoutMs);
          this.finish();
          return;
        }
        this.side.respond(head.status, head.statusMessage, head.headers);
        this.watchResponseIdle();
        this.receiveBody(this.side.sink, (trailers) => this.endResponse(trailers), () => this.idleTimer?.refresh());
        return;
      }
      default:
        throw new BurrowError(ErrorCode.Protocol, `unexpected ${payload.$case} message on a request`);
    }
  }

  private endResponse(trailers: Header[]): void {
    this.outcome.noteGrpcStatus(headerValue(trailers, 'grpc-status'));
    this.side.end(trailers);
    this.side.cutIfUnread(this.policy.idleTimeoutMs);
    this.finish();
  }

  /**
   * Like a reverse proxy's read and send timeouts: a response that makes no
   * progress this long (no chunk from the agent, no write drained by the
   * client) is cut, so a stream that goes quiet for good ends definitely.
   */
  private watchResponseIdle(): void {
    const { idleTimeoutMs } = this.policy;
    if (idleTimeoutMs === 0) return;
    const timer = this.after(idleTimeoutMs, () =>
      this.fail(ErrorCode.Timeout, this.describe(`the response made no progress for ${idleTimeoutMs} ms`), true),
    );
    this.idleTimer = timer;
    // A slow reader that keeps reading is progress too.
    this.side.onProgress(() => this.isOpen && timer.refresh());
  }

  protected release(failure: ExchangeFailure | undefined): void {
    if (failure !== undefined) {
      this.outcome.failed(failure.code, !this.responded);
      if (failure.code !== ErrorCode.ClientGone) this.side.fail(failure.code, failure.message, undefined, failure.http2ErrorCode);
    }
    // The local service (or the edge, failing) may answer before the upload's end: the rest is not read. After the
    // answer, so that over HTTP/2 the client is told to stop sending it once that has gone.
    this.side.discardBody();
  }
}
