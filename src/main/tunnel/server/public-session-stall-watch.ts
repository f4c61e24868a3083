// A public HTTP/2 session nghttp2 has given up on. A request header field
// over 64 KiB (NGHTTP2_HD_MAX_NV; grpcio sends a long metadata value without
// Huffman codes) makes nghttp2 send GOAWAY COMPRESSION_ERROR naming that
// stream as perhaps processed, then stop reading and writing; Node emits
// nothing and leaves the connection open (nodejs/node#41582), so the client
// waits on the stream until its deadline or the idle timeout (a minute),
// where RFC 9113 section 5.4.1 closes the connection after such a GOAWAY
// (grpcio's own server answers RESOURCE_EXHAUSTED at once).
//
// Seen as a stream nghttp2 took that never reached the edge's handlers,
// then confirmed by a probe (http2-settings-probe.ts) found unsent on two
// looks in a row: the connection is then closed, and the client knows.
import type { ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import { SettingsProbe } from '../http2-settings-probe.js';

const lookIntervalMs = 1_000;

export function closeWhenStalled(session: ServerHttp2Session): void {
  /** The highest stream id the edge has been handed (or found taken by a live session). */
  let surfaced = 0;
  const probe = new SettingsProbe(session);
  session.on('stream', (stream: ServerHttp2Stream) => {
    if ((stream.id ?? 0) > surfaced) surfaced = stream.id!;
  });
  const look = (): void => {
    // Its socket is gone once destroyed (reading it then throws).
    if (session.destroyed) return;
    if (probe.pending) {
      if (probe.stalled()) session.destroy();
      return;
    }
    // A stream nghttp2 refused itself (over the stream limit, a head too large) never surfaces either: the probe is answered, and it is taken as seen.
    const taken = session.state.lastProcStreamID ?? 0;
    if (taken > surfaced) probe.ask(() => (surfaced = Math.max(surfaced, taken)));
  };
  const timer = setInterval(look, lookIntervalMs).unref();
  session.once('close', () => clearInterval(timer));
}
