// Tells an HTTP/2 session that nghttp2 has given up on from a slow peer.
// nghttp2 ends a session it cannot decode (a header field over 64 KiB,
// NGHTTP2_HD_MAX_NV: GOAWAY COMPRESSION_ERROR) and then neither reads nor
// writes, and Node says nothing and leaves the connection open
// (nodejs/node#41582). An empty SETTINGS frame asked of such a session is
// never written. A PING would do, but C-core peers count pings without data
// as strikes and hang up after two.
import type { Http2Session } from 'node:http2';

/** Looks in a row that find the probe unsent before the session is taken for stopped. */
const stalledLooks = 2;

export class SettingsProbe {
  /** Asked for and not yet acknowledged. */
  pending = false;
  /** The socket's bytes written when the probe was asked for: any written since, and something left. */
  private writtenAtAsk = 0;
  private unsentLooks = 0;

  constructor(private readonly session: Http2Session) {}

  /** Asks for one; `acknowledged` once the peer has it. */
  ask(acknowledged?: () => void): void {
    try {
      this.writtenAtAsk = this.session.socket.bytesWritten;
      this.session.settings({}, () => {
        this.pending = false;
        this.unsentLooks = 0;
        acknowledged?.();
      });
      this.pending = true;
      this.unsentLooks = 0;
    } catch {
      // Node's limit of unacknowledged SETTINGS reached, or the session just closed: the next look sees.
    }
  }

  /** Forgets one asked for (its acknowledgement may still come). */
  drop(): void {
    this.pending = false;
    this.unsentLooks = 0;
  }

  /** A look at one asked for: whether it has been found unsent on two looks in a row, the session stopped. */
  stalled(): boolean {
    this.unsentLooks = this.unsent() ? this.unsentLooks + 1 : 0;
    return this.unsentLooks >= stalledLooks;
  }

  /**
   * The probe was never sent, and nothing held it back: frames wait in
   * nghttp2's queue, yet nothing has been written since it was asked for and
   * no bytes wait on the socket. (Frames alone in the queue prove nothing:
   * nghttp2 also holds there streams over the peer's limit and data waiting
   * for credit, and the probe goes ahead of them; a full socket shows as
   * bytes waiting on it.) False when the socket's queue cannot be read (a
   * Node that no longer shows it).
   */
  private unsent(): boolean {
    const { session } = this;
    // libuv's count of bytes waiting to be written, which Node's TCP handle shows.
    const waitingOnSocket = (session.socket as unknown as { _handle?: { writeQueueSize?: unknown } })._handle?.writeQueueSize;
    return this.pending && typeof waitingOnSocket === 'number' && waitingOnSocket === 0 && session.socket.bytesWritten === this.writtenAtAsk && (session.state.outboundQueueSize ?? 0) > 0;
  }
}
