// Node's HTTP/2 client stops reading a connection for good, and says
// nothing, when nghttp2 refuses a frame from the peer it cannot decode: a
// header field over 64 KiB (NGHTTP2_HD_MAX_NV) makes nghttp2 send GOAWAY
// COMPRESSION_ERROR, after which Node neither reads nor writes, nor emits
// an event (nodejs/node#41582). The call waits for ever, and so does every
// later call to the service on that connection.
//
// While calls are open, the session is asked every few seconds to send an
// empty SETTINGS frame. A PING would do, but C-core services count pings
// without data as strikes and hang up after two. A probe after which
// nothing was written, on two checks in a row, while frames wait in
// nghttp2's queue and nothing waits on the socket, was never sent. A slow
// or paused service (a breakpoint) cannot cause that: the frame leaves,
// only its acknowledgement waits; and a full socket shows as bytes waiting
// on it.
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';

/** Marks the error a stalled session is destroyed with. */
export const stalledSessionCode = 'ERR_BURROW_HTTP2_SESSION_STALLED';

const checkIntervalMs = 3_000;
/** Checks in a row that find the probe unsent before the session is given up. */
const stalledChecks = 2;

export class SessionStallWatch {
  private openStreams = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  /** The socket's bytes written when the probe was asked for: any written since, and something left. */
  private writtenAtProbe = 0;
  private unsentChecks = 0;

  constructor(private readonly session: ClientHttp2Session) {}

  /** Watches the session while `stream` is open. */
  track(stream: ClientHttp2Stream): void {
    this.openStreams++;
    stream.once('close', () => {
      if (--this.openStreams === 0) this.stop();
    });
    this.timer ??= setInterval(() => this.check(), checkIntervalMs).unref();
  }

  private check(): void {
    const { session } = this;
    if (session.destroyed) {
      this.stop();
    } else if (!this.probing) {
      this.probe();
    } else {
      this.unsentChecks = nothingSent(session, this.writtenAtProbe) ? this.unsentChecks + 1 : 0;
      if (this.unsentChecks < stalledChecks) return;
      this.stop();
      const error = new Error(
        "the connection stopped: Node's HTTP/2 client took something from the service it could not decode (one header field over 64 KiB, say) and stopped reading it without a word",
      );
      session.destroy(Object.assign(error, { code: stalledSessionCode }));
    }
  }

  private probe(): void {
    try {
      this.writtenAtProbe = this.session.socket.bytesWritten;
      this.session.settings({}, () => {
        this.probing = false;
        this.unsentChecks = 0;
      });
      this.probing = true;
    } catch {
      // Node's limit of unacknowledged SETTINGS reached, or the session just closed: the next check sees.
    }
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.probing = false;
    this.unsentChecks = 0;
  }
}

/**
 * Frames wait in nghttp2's queue, yet nothing has been written since the
 * probe was asked for and no bytes wait on the socket: nothing held the
 * probe back. (Frames alone in the queue prove nothing: nghttp2 also holds
 * there the calls over the service's limit of concurrent streams, and the
 * probe goes ahead of them.) False when the socket's queue cannot be read
 * (a Node that no longer shows it).
 */
function nothingSent(session: ClientHttp2Session, writtenAtProbe: number): boolean {
  // libuv's count of bytes waiting to be written, which Node's TCP handle shows.
  const waitingOnSocket = (session.socket as unknown as { _handle?: { writeQueueSize?: unknown } })._handle?.writeQueueSize;
  return typeof waitingOnSocket === 'number' && waitingOnSocket === 0 && session.socket.bytesWritten === writtenAtProbe && (session.state.outboundQueueSize ?? 0) > 0;
}
