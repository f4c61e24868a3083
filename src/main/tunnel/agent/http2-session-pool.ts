// One HTTP/2 connection per local gRPC target, shared by all its calls and
// replaced when it closes.
import { connect, type ClientHttp2Session } from 'node:http2';
import { formatLocalTarget, type LocalTarget } from './local-target.js';

export class Http2SessionPool {
  private readonly sessions = new Map<string, ClientHttp2Session>();

  get(target: LocalTarget): ClientHttp2Session {
    const key = formatLocalTarget(target);
    const existing = this.sessions.get(key);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    // Per-request credit already bounds what waits in the session (a window
    // per stream); Node's own accounting (10 MB) would refuse streams first.
    const session = connect(`http://${key}`, { maxSessionMemory: Number.MAX_SAFE_INTEGER });
    // Failures surface on each call's stream; an idle session just goes away.
    session.on('error', () => {});
    session.once('close', () => {
      if (this.sessions.get(key) === session) this.sessions.delete(key);
    });
    session.unref();
    this.sessions.set(key, session);
    return session;
  }

  close(): void {
    for (const session of this.sessions.values()) session.destroy();
    this.sessions.clear();
  }
}
