// Node's HTTP/2 client stops reading a connection for good, and says
// nothing, when nghttp2 refuses a frame from the peer it cannot decode: a
// header field over 64 KiB (NGHTTP2_HD_MAX_NV) makes nghttp2 send GOAWAY
// COMPRESSION_ERROR, after which Node neither reads nor writes, nor emits
// an event (nodejs/node#41582). The call waits for ever, and so does every
// later call to the service on that connection.
//
// While calls are open, the session is probed every second
// (http2-settings-probe.ts); a probe found unsent on two checks in a row
// means the session has stopped. A slow or paused service (a breakpoint)
// cannot cause that: the frame leaves, only its acknowledgement waits.
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { SettingsProbe } from '../http2-settings-probe.js';

/** Marks the error a stalled session is destroyed with. */
export const stalledSessionCode = 'ERR_BURROW_HTTP2_SESSION_STALLED';

const checkIntervalMs = 1_000;

export class SessionStallWatch {
  private openStreams = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly probe: SettingsProbe;

  constructor(private readonly session: ClientHttp2Session) {
    this.probe = new SettingsProbe(session);
  }

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
    } else if (!this.probe.pending) {
      this.probe.ask();
    } else if (this.probe.stalled()) {
      this.stop();
      const error = new Error(
        "the connection stopped: Node's HTTP/2 client took something from the service it could not decode (one header field over 64 KiB, say) and stopped reading it without a word",
      );
      session.destroy(Object.assign(error, { code: stalledSessionCode }));
    }
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.probe.drop();
  }
}
