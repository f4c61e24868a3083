// Which edge a forwarded request goes to (edge-forwarder.ts): the first that
// accepts a connection, one that refuses passed over; and, when none accepts
// in time, one that did not refuse either, since an edge whose backlog is
// full under load is busy, not gone (a burst of forwarded requests got 502s
// from a healthy edge).
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstReachable } from '../../src/main/tunnel/server/edge-forwarder.js';
import { closedPort } from '../helpers/common.js';

const edge = (port: number): { advertise: string; publicPort: number; since: number } => ({ advertise: `127.0.0.1:${port + 1}`, publicPort: port, since: 0 });

/** A listener whose thread stands still (Atomics.wait), its backlog of one filled: connections to it neither complete nor fail for seconds. */
const busySource = `
const { createServer } = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const server = createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(new Int32Array(workerData), 0, 0);
});
`;

describe('picking the edge to forward to', () => {
  let acceptingPort: number;
  let refusingPort: number;
  let busyPort: number;
  let stopAccepting: () => Promise<void>;
  let busy: Worker;
  const release = new Int32Array(new SharedArrayBuffer(4));
  const fillers: Socket[] = [];

  beforeAll(async () => {
    const accepting = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => accepting.listen(0, '127.0.0.1', resolve));
    acceptingPort = (accepting.address() as AddressInfo).port;
    stopAccepting = () => new Promise((resolve) => accepting.close(() => resolve()));
    refusingPort = await closedPort();
    busy = new Worker(busySource, { eval: true, workerData: release.buffer });
    busyPort = (await once(busy, 'message'))[0] as number;
    // The kernel completes handshakes the thread never accepts until its queue (the backlog and one) is full; later ones wait.
    let connected = 0;
    await new Promise<void>((resolve) => {
      for (let i = 0; i < 4; i++) {
        const filler = connect(busyPort, '127.0.0.1').on('error', () => {});
        filler.once('connect', () => ++connected === 2 && resolve());
        fillers.push(filler);
      }
    });
  });

  afterAll(async () => {
    for (const filler of fillers) filler.destroy();
    Atomics.store(release, 0, 1);
    Atomics.notify(release, 0);
    await busy?.terminate();
    await stopAccepting?.();
  });

  it('takes one that accepts, passing over one that refuses', async () => {
    expect(await firstReachable([edge(refusingPort), edge(acceptingPort)])).toEqual({ host: '127.0.0.1', port: acceptingPort });
  });

  it('takes one that accepts over one that is slow to', async () => {
    expect(await firstReachable([edge(busyPort), edge(acceptingPort)])).toEqual({ host: '127.0.0.1', port: acceptingPort });
  });

  it('takes one slow to accept when no edge accepts, rather than none', async () => {
    expect(await firstReachable([edge(busyPort), edge(refusingPort)])).toEqual({ host: '127.0.0.1', port: busyPort });
    expect(await firstReachable([edge(refusingPort)])).toBeUndefined();
  });
});
