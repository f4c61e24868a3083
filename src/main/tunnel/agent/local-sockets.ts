// The sockets of one of the agent's local HTTP pools, so that body pieces
// written together leave together. undici writes each chunk of a streamed
// request body with a cork and an uncork of its own, so the pieces of an
// upload that arrived gathered (views of the tunnel's 16 KiB HTTP/2 frames)
// would each take a system call. Corked from outside, undici's uncork only
// counts down, and the pieces leave with the next uncork as one writev.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { buildConnector } from 'undici';
import { maxChunkBytes } from '../flow-control.js';
import { readAfterSendFailure } from '../patches/net-read-after-send-failure.js';
import { reportPatch } from '../patches/patch-report.js';
import { closeAfterBodilessAnswers } from '../patches/undici-bodiless-close.js';
import { readUnaskedContinue } from '../patches/undici-unasked-continue.js';

type Connector = buildConnector.connector;
type BuildConnector = (options: buildConnector.BuildOptions) => Connector;

/** What undici's connector buffers before a write reports backpressure. */
const undiciWriteBufferBytes = 64 * 1024;

/**
 * Corking and uncorking one socket costs about what copying this many bytes
 * does (measured here: 1,000 sockets in 16 µs; 1 MiB joined in 174 µs).
 */
const corkCostInBytes = 100;

// Loaded with the first pool; null when it could not be.
let connectorBuilder: BuildConnector | null | undefined;
function loadConnectorBuilder(): BuildConnector | null {
  if (connectorBuilder !== undefined) return connectorBuilder;
  let build: unknown;
  try {
    build = createRequire(import.meta.url)('undici/lib/core/connect.js');
  } catch {
    build = undefined;
  }
  connectorBuilder = reportPatch('undici-connector', typeof build === 'function', 'upload pieces are joined for the local service (one more copy per body)')
    ? (build as BuildConnector)
    : null;
  return connectorBuilder;
}

/** Whether a pool's sockets can be known, so that writes can be held together. */
export function localSocketsTracked(): boolean {
  return loadConnectorBuilder() !== null;
}

export class LocalSockets {
  private readonly open = new Set<Socket>();
  /** undefined when undici's connector could not be loaded: undici then connects on its own. */
  readonly connect: Connector | undefined;

  constructor() {
    const build = loadConnectorBuilder();
    if (build === null) {
      this.connect = undefined;
      return;
    }
    // One body chunk's pieces fit in the write buffer (undici's 64 KiB on top),
    // so a batch goes in one writev and holds no more than one joined chunk did.
    // (net.connect hands these to the socket's streams; undici's types do not list them.)
    const bufferSizes = { highWaterMark: undefined, readableHighWaterMark: undiciWriteBufferBytes, writableHighWaterMark: maxChunkBytes + undiciWriteBufferBytes };
    const connector = build(bufferSizes as buildConnector.BuildOptions);
    this.connect = (options, callback) =>
      connector(options, (...result) => {
        const socket = result[1];
        if (socket) {
          this.open.add(socket);
          socket.once('close', () => this.open.delete(socket));
          readUnaskedContinue(socket);
          closeAfterBodilessAnswers(socket);
          readAfterSendFailure(socket);
        }
        callback(...result);
      });
  }

  /** Whether holding every socket's writes costs less than copying `bytes`. */
  corkCheaperThanCopying(bytes: number): boolean {
    return this.open.size * corkCostInBytes < bytes;
  }

  /** Holds every open socket's writes until the returned function is called. */
  cork(): () => void {
    const corked = [...this.open];
    for (const socket of corked) socket.cork();
    return () => {
      for (const socket of corked) socket.uncork();
    };
  }
}
