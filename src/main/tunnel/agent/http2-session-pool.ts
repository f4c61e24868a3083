// One HTTP/2 connection per local gRPC target, shared by all its calls and
// replaced when it closes.
//
// Calls on a new connection wait for the service's first SETTINGS: until
// they arrive, Node (nghttp2) assumes the peer takes 100 streams at once, so
// a burst of calls on a fresh connection to a service that allows fewer
// (grpc.max_concurrent_streams 5, say) had all but the first few refused
// (REFUSED_STREAM), where a client calling it directly (grpc-js) queued them.
// Once the settings are in, nghttp2 itself holds streams beyond the limit.
// A connection Node stops reading without a word is given up
// (session-stall-watch.ts); one the service sends GOAWAY on with an error
// code finishes the streams it names processed (http2-goaway-grace.ts).
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type ClientSessionRequestOptions, type OutgoingHttpHeaders } from 'node:http2';
import { headerPairsWithin, maxResponseHeadBytes } from '../config.js';
import { finishStreamsAfterGoaway } from './http2-goaway-grace.js';
import { formatLocalTarget, type LocalTarget } from './local-target.js';
import { SessionStallWatch } from './session-stall-watch.js';

/** Runs with the session once it can take calls, or with the error that ended it first. */
export type WhenSettled = (session: ClientHttp2Session, error: Error | undefined) => void;

export class Http2SessionPool {
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private readonly settled = new WeakSet<ClientHttp2Session>();
  /** Calls waiting for a new session's settings: one list per session, not a listener per call. */
  private readonly waiting = new WeakMap<ClientHttp2Session, WhenSettled[]>();
  private readonly stallWatches = new WeakMap<ClientHttp2Session, SessionStallWatch>();

  get(target: LocalTarget): ClientHttp2Session {
    const key = formatLocalTarget(target);
    const existing = this.sessions.get(key);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    // Per-request credit already bounds what waits in the session (a window
    // per stream); Node's own accounting (10 MB) would refuse streams first.
    // gRPC metadata in the fields a head of the agent's size holds (Node's
    // default of 128 reset calls that succeed directly), and request heads of
    // any size an edge lets through (Node sends 64 KiB of header block at most).
    // No server push: a pushed stream could not cross the tunnel (the
    // service is told so, as curl and browsers tell it).
    const session = connect(`http://${key}`, {
      settings: { enablePush: false },
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
      maxHeaderListPairs: headerPairsWithin(maxResponseHeadBytes),
      maxSendHeaderBlockLength: 2 * maxResponseHeadBytes,
    });
    let failure: Error | undefined;
    const release = (): void => {
      const waiting = this.waiting.get(session) ?? [];
      this.waiting.delete(session);
      const error = this.settled.has(session) ? undefined : (failure ?? new Error('the connection closed before it was set up'));
      for (const then of waiting) then(session, error);
    };
    // Failures surface on each call (whenSettled, or its stream); an idle session just goes away.
    session.on('error', (error: Error) => (failure ??= error));
    session.once('remoteSettings', () => {
      this.settled.add(session);
      release();
    });
    session.once('close', () => {
      release();
      if (this.sessions.get(key) === session) this.sessions.delete(key);
    });
    finishStreamsAfterGoaway(session);
    session.unref();
    this.stallWatches.set(session, new SessionStallWatch(session));
    this.sessions.set(key, session);
    return session;
  }

  /** Runs `then` with the target's session once the service's settings are in: at once on a settled one. */
  whenSettled(target: LocalTarget, then: WhenSettled): void {
    const session = this.get(target);
    if (this.settled.has(session)) {
      then(session, undefined);
      return;
    }
    const waiting = this.waiting.get(session);
    if (waiting === undefined) this.waiting.set(session, [then]);
    else waiting.push(then);
  }

  /** Opens a stream on one of the pool's sessions; throws as session.request does. */
  request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, options: ClientSessionRequestOptions): ClientHttp2Stream {
    const stream = session.request(headers, options);
    this.stallWatches.get(session)?.track(stream);
    return stream;
  }

  close(): void {
    for (const session of this.sessions.values()) session.destroy();
    this.sessions.clear();
  }
}
