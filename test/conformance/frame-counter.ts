// A TCP relay that reads the HTTP/2 frames a server sends to its client and
// counts the ones that end streams or connections badly (RST_STREAM and
// GOAWAY with their error codes), passing every byte on unchanged.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

const frameHeaderBytes = 9;
const rstStream = 0x3;
const goaway = 0x7;

export interface FrameCounts {
  /** RST_STREAM frames from the server, by error code. */
  resets: Map<number, number>;
  /** GOAWAY frames from the server, by error code. */
  goaways: Map<number, number>;
}

export interface FrameCounter {
  port: number;
  counts: FrameCounts;
  close(): Promise<void>;
}

export async function startFrameCounter(targetPort: number): Promise<FrameCounter> {
  const counts: FrameCounts = { resets: new Map(), goaways: new Map() };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream);
    let pending = Buffer.alloc(0);
    // Backpressure passes through: a slow client must look slow to the server.
    client.on('drain', () => upstream.resume());
    upstream.on('data', (chunk: Buffer) => {
      if (!client.write(chunk)) upstream.pause();
      pending = Buffer.concat([pending, chunk]);
      // The server's side starts straight with frames (its preface is a SETTINGS frame).
      while (pending.length >= frameHeaderBytes) {
        const length = pending.readUIntBE(0, 3);
        if (pending.length < frameHeaderBytes + length) break;
        const type = pending[3]!;
        const payload = pending.subarray(frameHeaderBytes, frameHeaderBytes + length);
        if (type === rstStream) bump(counts.resets, payload.readUInt32BE(0));
        if (type === goaway) bump(counts.goaways, payload.readUInt32BE(4));
        pending = pending.subarray(frameHeaderBytes + length);
      }
    });
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function bump(counts: Map<number, number>, code: number): void {
  counts.set(code, (counts.get(code) ?? 0) + 1);
}
