// Reads what a local service answered before a failed write of the request
// body is taken as the connection's end. A service that refuses an upload
// early (413, as Go's http.MaxBytesReader makes it) and closes with the body
// unread resets the connection: the agent's next write of the body fails
// (EPIPE, ECONNRESET), and Node destroys the socket at once, with the answer
// still unread in its receive queue. undici then failed the request (502)
// where a browser, which reads on after a failed send, shows the 413
// (browser audit: 20-67% of 4-16 MiB uploads through the tunnel).
//
// Here a failed write leaves the socket to read until its input ends (its
// end, its error, or undici's own destroy once it has the answer), or
// readingForMs. Node marks the readable side errored with every failed write,
// and a readable side so marked drops what it reads: the mark is lifted each
// time. Later writes wait in the socket's buffer, never written.
import type { Socket } from 'node:net';
import { reportPatch } from './patch-report.js';

/** The longest wait for the rest of an answer after a failed write: it is already in the receive queue, or never comes. */
const readingForMs = 2_000;

const sendFailures = new Set(['EPIPE', 'ECONNRESET']);

type ReadableState = { errored: Error | null };

function isSendFailure(error: Error | undefined): boolean {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  return syscall === 'write' && sendFailures.has(code ?? '');
}

/** Installs the deferral on one socket of the agent's local HTTP pools. */
export function readAfterSendFailure(socket: Socket): void {
  const readable = (socket as unknown as { _readableState?: ReadableState })._readableState;
  if (!reportPatch('net-read-after-send-failure', readable !== undefined && 'errored' in readable, "a service's early answer to an upload, followed by a reset, may reach the client as a 502")) return;
  const destroy = socket.destroy;
  let failure: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  const destroyNow = (error: Error | undefined): void => {
    clearTimeout(timer);
    socket.destroy = destroy;
    destroy.call(socket, error);
  };
  socket.destroy = function (this: Socket, error?: Error): Socket {
    if (failure === undefined) {
      if (!isSendFailure(error) || this.readableEnded) return destroy.call(this, error);
      failure = error;
      timer = setTimeout(() => destroyNow(failure), readingForMs);
      // A wait for a dead connection's last bytes keeps no process up.
      timer.unref();
      this.once('end', () => destroyNow(failure));
      // Read on: undici reads in paused mode, at each 'readable'.
      this.read(0);
    }
    if (isSendFailure(error)) {
      readable!.errored = null;
      return this;
    }
    // The input's own error, or undici done with the socket (it has the answer): nothing more to wait for.
    destroyNow(error ?? failure);
    return this;
  };
}
