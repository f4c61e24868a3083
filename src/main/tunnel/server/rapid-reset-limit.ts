// A client that opens HTTP/2 streams and resets them before they are
// answered ("rapid reset", CVE-2023-44487) costs itself nothing and the
// edge, the agent and the local service a request each. Node's own server
// shrugs it off (nghttp2 goes away only past a burst of ~1,000 resets, and
// a handler that has not answered costs little); through the tunnel each
// reset stream was a request at the local service, and one client's flood
// starved every other client of the tunnel. Past a budget, the session is
// told ENHANCE_YOUR_CALM and closed. What counts is the caller's to say
// (public-router.ts): streams reset before they were admitted, not a
// client's cancels of requests under way (a batch of gRPC calls past their
// deadline), nor those of another edge's hop, which carries many clients.
import { constants, type Http2Session, type ServerHttp2Stream } from 'node:http2';

/** Resets a session may make at once: a page navigated away, a batch of gRPC calls past their deadline. */
const burst = 200;
/** Resets a second a session may go on making. */
const perSecond = 100;

export function limitRapidResets(
  session: Http2Session,
  /** Whether a stream reset before any answer counts against the budget. */
  counts: (stream: ServerHttp2Stream) => boolean,
  /** The session is sent away. */
  sentAway: () => void,
  now: () => number = () => performance.now(),
): void {
  let allowance = burst;
  let checkedAt = now();
  session.on('stream', (stream: ServerHttp2Stream) => {
    // 'aborted': closed before the edge ended its answer. Only those the client reset before any answer count;
    // a stream the edge resets itself has been answered, or is the edge's doing.
    stream.once('aborted', () => {
      if (stream.headersSent || session.destroyed || !counts(stream)) return;
      const at = now();
      allowance = Math.min(burst, allowance + ((at - checkedAt) * perSecond) / 1000);
      checkedAt = at;
      allowance -= 1;
      if (allowance >= 0) return;
      // The code goes in the one GOAWAY destroy() sends (a goaway() first was followed by one saying NO_ERROR); with
      // no error given, destroy() sends NO_ERROR whatever the code. The error goes to the server's 'sessionError'.
      session.destroy(new Error('streams reset faster than the edge allows (rapid reset)'), constants.NGHTTP2_ENHANCE_YOUR_CALM);
      sentAway();
    });
  });
}
