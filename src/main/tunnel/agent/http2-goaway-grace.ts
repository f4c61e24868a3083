// A service's GOAWAY with an error code (ENHANCE_YOUR_CALM, INTERNAL_ERROR
// on its way down) still lets the streams it names processed, up to its
// last stream id, finish (RFC 9113 section 6.8): nghttp2's clients (curl,
// nghttp) and grpc-go read their answers to the end. Node's client destroys
// the whole session as soon as it has emitted 'goaway', cutting them; here
// that destroy becomes a close, which lets them finish and opens no new
// stream (nghttp2 itself refuses the ones above the last id, REFUSED_STREAM).
import { constants, type ClientHttp2Session } from 'node:http2';
import { reportPatch } from '../patches/patch-report.js';

export function finishStreamsAfterGoaway(session: ClientHttp2Session): void {
  session.on('goaway', (code: number) => {
    if (code === constants.NGHTTP2_NO_ERROR || session.destroyed) return;
    // Node calls destroy right after the listeners, in the same turn; past it, the session's own destroy again.
    let called = false;
    session.destroy = (): ClientHttp2Session => {
      called = true;
      restore();
      session.close();
      return session;
    };
    const restore = (): void => {
      delete (session as Partial<ClientHttp2Session>).destroy;
    };
    queueMicrotask(() => {
      restore();
      reportPatch('node-http2-goaway-grace', called, "a service's GOAWAY with an error code may cut the streams it was finishing");
    });
  });
}
