// Per-request credit windows, driven by hand: what the sender sends for how
// much credit, when the receiver grants it back, and when a queue holds items.
import { EventEmitter } from 'node:events';
import { Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ErrorCode, BurrowError } from '../../src/main/tunnel/errors.js';
import { CreditedQueue, CreditedReceiver, CreditedSender, maxChunkBytes, writableSink, type ItemSink } from '../../src/main/tunnel/flow-control.js';

/** A source whose 'data' and 'end' we emit ourselves, recording pause and resume. */
class FakeSource extends EventEmitter {
  readonly pause = vi.fn();
  readonly resume = vi.fn();
  /** True after the last pause() that no resume() followed. */
  get paused(): boolean {
    const lastPause = this.pause.mock.invocationCallOrder.at(-1) ?? 0;
    const lastResume = this.resume.mock.invocationCallOrder.at(-1) ?? 0;
    return lastPause > lastResume;
  }
}

interface Harness {
  source: FakeSource;
  sender: CreditedSender;
  chunks: Buffer[];
  ended: () => number;
}

function harness(initialCredit: number): Harness {
  const source = new FakeSource();
  const chunks: Buffer[] = [];
  let ends = 0;
  const sender = new CreditedSender(source as unknown as Readable, initialCredit, {
    chunk: (data) => chunks.push(data),
    end: () => ends++,
  });
  return { source, sender, chunks, ended: () => ends };
}

/** Lets the sender's end-of-turn flush (a setImmediate queued before this one) run. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const bytes = (text: string): Buffer => Buffer.from(text);
const texts = (chunks: Buffer[]): string[] => chunks.map((chunk) => chunk.toString());

describe('CreditedSender', () => {
  it('coalesces the reads of one event-loop turn into one chunk', async () => {
    const { source, chunks } = harness(1_000);
    source.emit('data', bytes('ab'));
    source.emit('data', bytes('cd'));
    source.emit('data', bytes('ef'));
    expect(chunks).toEqual([]); // nothing before the turn ends
    await nextTurn();
    expect(texts(chunks)).toEqual(['abcdef']);
    source.emit('data', bytes('gh'));
    await nextTurn();
    expect(texts(chunks)).toEqual(['abcdef', 'gh']);
  });

  it('hands a lone read on without copying it', async () => {
    const { source, chunks } = harness(1_000);
    const read = bytes('hello');
    source.emit('data', read);
    await nextTurn();
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toBe(read);
  });

  it('hands reads that one chunk spans to a sink that takes parts as those reads, cut at the credit, never joined', async () => {
    const source = new FakeSource();
    const sent: { parts: Buffer[]; length: number }[] = [];
    const whole: Buffer[] = [];
    const sender = new CreditedSender(source as unknown as Readable, 7, {
      chunk: (data) => whole.push(data),
      parts: (parts, length) => sent.push({ parts, length }),
      end: () => {},
    });
    const reads = [bytes('abc'), bytes('defg'), bytes('hij')];
    for (const read of reads) source.emit('data', read);
    await nextTurn();
    // 7 bytes of credit: the first two reads as they are.
    expect(sent).toEqual([{ parts: reads.slice(0, 2), length: 7 }]);
    expect(sent[0]!.parts[0]).toBe(reads[0]);
    expect(sent[0]!.parts[1]).toBe(reads[1]);
    sender.grant(2);
    // Within one read: a view of it, as for any sink.
    expect(texts(whole)).toEqual(['hi']);
    source.emit('data', bytes('klm'));
    sender.grant(10);
    expect(sent.map(({ parts, length }) => [texts(parts), length])).toEqual([
      [['abc', 'defg'], 7],
      [['j', 'klm'], 4],
    ]);
  });

  it('accepts string reads as their UTF-8 bytes', async () => {
    const { source, chunks } = harness(1_000);
    source.emit('data', 'héllo');
    await nextTurn();
    expect(chunks).toEqual([Buffer.from('héllo', 'utf8')]);
  });

  it('splits a read bigger than maxChunkBytes at once, never sending a bigger chunk', () => {
    const { source, chunks } = harness(10 * maxChunkBytes);
    const big = Buffer.alloc(2 * maxChunkBytes + 123, 7);
    source.emit('data', big);
    // Reaching maxChunkBytes flushes in the same turn, without waiting for the next.
    expect(chunks.map((chunk) => chunk.length)).toEqual([maxChunkBytes, maxChunkBytes, 123]);
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
  });

  it('flushes as soon as the reads of one turn add up to maxChunkBytes', () => {
    const { source, chunks } = harness(10 * maxChunkBytes);
    const half = maxChunkBytes / 2;
    const first = Buffer.alloc(half, 1);
    const second = Buffer.alloc(half, 2);
    source.emit('data', first);
    expect(chunks).toEqual([]);
    source.emit('data', second);
    expect(chunks).toHaveLength(1);
    expect(chunks[0].length).toBe(maxChunkBytes);
    expect(chunks[0].equals(Buffer.concat([first, second]))).toBe(true);
  });

  it('never sends more than the credit granted, and pauses the source until more comes', async () => {
    const { source, sender, chunks } = harness(5);
    source.emit('data', bytes('0123456789ab'));
    await nextTurn();
    expect(texts(chunks)).toEqual(['01234']);
    expect(source.paused).toBe(true);

    sender.grant(4);
    expect(texts(chunks)).toEqual(['01234', '5678']);
    expect(source.paused).toBe(true);

    sender.grant(10); // more than is held: the rest goes and reading resumes
    expect(texts(chunks)).toEqual(['01234', '5678', '9ab']);
    expect(source.paused).toBe(false);
  });

  it('pauses at once when a read arrives with no credit at all', () => {
    const { source, sender, chunks } = harness(0);
    source.emit('data', bytes('x'));
    expect(source.pause).toHaveBeenCalled();
    expect(chunks).toEqual([]);
    sender.grant(1);
    expect(texts(chunks)).toEqual(['x']);
    expect(source.paused).toBe(false);
  });

  it('ends the sink once, after every held byte has gone', async () => {
    const { source, sender, chunks, ended } = harness(3);
    source.emit('data', bytes('abcdef'));
    source.emit('end');
    expect(texts(chunks)).toEqual(['abc']);
    expect(ended()).toBe(0);
    sender.grant(3);
    expect(texts(chunks)).toEqual(['abc', 'def']);
    expect(ended()).toBe(1);
    await nextTurn();
    sender.grant(100);
    expect(ended()).toBe(1);
    expect(chunks).toHaveLength(2);
  });

  it('ends an empty source without sending a chunk', () => {
    const { source, chunks, ended } = harness(10);
    source.emit('end');
    expect(chunks).toEqual([]);
    expect(ended()).toBe(1);
  });

  it('sends what the turn held when the source ends before the turn does', async () => {
    const { source, chunks, ended } = harness(100);
    source.emit('data', bytes('ab'));
    source.emit('data', bytes('cd'));
    source.emit('end');
    expect(texts(chunks)).toEqual(['abcd']);
    expect(ended()).toBe(1);
    await nextTurn(); // the flush already scheduled finds nothing more to do
    expect(texts(chunks)).toEqual(['abcd']);
    expect(ended()).toBe(1);
  });

  it('stop() drops held bytes, stops listening and ignores later grants', async () => {
    const { source, sender, chunks, ended } = harness(0);
    source.emit('data', bytes('held'));
    sender.stop();
    expect(source.listenerCount('data')).toBe(0);
    expect(source.listenerCount('end')).toBe(0);
    sender.grant(100);
    await nextTurn();
    source.emit('data', bytes('late'));
    source.emit('end');
    await nextTurn();
    expect(chunks).toEqual([]);
    expect(ended()).toBe(0);
  });

  it.each([
    { credit: 1, reads: [10, 10, 10], grants: [1, 2, 3, 30] },
    { credit: 7, reads: [3, 4, 5, 6], grants: [7, 7, 7] },
    { credit: 64, reads: [100, 1, 1, 1, 200], grants: [64, 64, 64, 64, 64] },
    { credit: 1_000, reads: [999, 2], grants: [1_000] },
  ])('delivers every byte in order without exceeding credit: $credit then $grants', async ({ credit, reads, grants }) => {
    const { source, sender, chunks, ended } = harness(credit);
    const input: Buffer[] = [];
    for (const [i, length] of reads.entries()) {
      const read = Buffer.alloc(length, i + 1);
      input.push(read);
      source.emit('data', read);
    }
    source.emit('end');
    await nextTurn();
    let granted = credit;
    const sentSoFar = (): number => chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    expect(sentSoFar()).toBeLessThanOrEqual(granted);
    for (const grant of grants) {
      sender.grant(grant);
      granted += grant;
      expect(sentSoFar()).toBeLessThanOrEqual(granted);
    }
    expect(Buffer.concat(chunks).equals(Buffer.concat(input))).toBe(true);
    expect(chunks.every((chunk) => chunk.length > 0 && chunk.length <= maxChunkBytes)).toBe(true);
    expect(ended()).toBe(1);
  });
});

/** A receiver whose sink completes only when the test says so. */
function receiver(window: number) {
  const pending: { item: string; done: (error?: Error | null) => void }[] = [];
  const grants: number[] = [];
  const r = new CreditedReceiver<string>((item, done) => pending.push({ item, done }), window, (n) => grants.push(n));
  return { r, pending, grants };
}

describe('CreditedReceiver', () => {
  it('accepts up to its window, then refuses with a FlowControl BurrowError', () => {
    const { r, pending } = receiver(100);
    r.write('a', 60);
    r.write('b', 40);
    expect(pending.map((p) => p.item)).toEqual(['a', 'b']);
    let thrown: unknown;
    try {
      r.write('c', 1);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BurrowError);
    expect((thrown as BurrowError).code).toBe(ErrorCode.FlowControl);
    expect((thrown as BurrowError).message).toContain('window 100');
    expect(pending).toHaveLength(2); // the refused item never reached the sink
  });

  it('lets one message overshoot the window, then refuses the next', () => {
    const { r, pending } = receiver(100);
    r.write('first', 90);
    r.write('whole websocket message', 500); // 10 credit left: allowed to overshoot
    expect(pending).toHaveLength(2);
    expect(() => r.write('more', 1)).toThrow(BurrowError);
  });

  it('grants credit back in quarters of the window as the sink accepts items', () => {
    const { r, pending, grants } = receiver(100); // threshold 25
    r.write('a', 10);
    r.write('b', 10);
    r.write('c', 10);
    pending[0].done();
    pending[1].done();
    expect(grants).toEqual([]); // 20 flushed < 25
    pending[2].done();
    expect(grants).toEqual([30]);
  });

  it('does not grant for items the sink failed to take', () => {
    const { r, pending, grants } = receiver(4); // threshold 1
    r.write('a', 2);
    r.write('b', 2);
    pending[0].done(new Error('sink broke'));
    expect(grants).toEqual([]);
    expect(() => r.write('c', 1)).toThrow(BurrowError); // the failed bytes stay spent
    pending[1].done(null);
    expect(grants).toEqual([2]);
    r.write('d', 1);
    expect(pending).toHaveLength(3);
  });

  it('granted credit can be spent again', () => {
    const { r, pending, grants } = receiver(8); // threshold 2
    r.write('a', 8);
    expect(() => r.write('b', 1)).toThrow(BurrowError);
    pending[0].done();
    expect(grants).toEqual([8]);
    r.write('c', 8);
    expect(pending.map((p) => p.item)).toEqual(['a', 'c']);
  });

  it.each([1, 2, 3])('grants every flushed byte with a tiny window of %i', (window) => {
    const { r, pending, grants } = receiver(window);
    r.write('a', 1);
    pending[0].done();
    expect(grants).toEqual([1]);
  });

  it('refuses everything with a window of 0', () => {
    const { r } = receiver(0);
    expect(() => r.write('a', 1)).toThrow(BurrowError);
  });

  it.each([
    { window: 1, sizes: [1, 1, 1, 1, 1] },
    { window: 4, sizes: [1, 3, 2, 2, 4, 1] },
    { window: 100, sizes: [7, 50, 13, 99, 1, 100, 3, 64] },
    { window: 65_536, sizes: [16_384, 65_536, 1, 30_000, 40_000] },
    { window: 10, sizes: [25, 3, 11] }, // each larger than the window: only possible whole
  ])('a sender that respects its credit is never refused and never stalls (window $window)', ({ window, sizes }) => {
    const { r, pending, grants } = receiver(window);
    let credit = window;
    let flushedIndex = 0;
    let unflushedBytes = 0;
    const flushAll = (): void => {
      while (flushedIndex < pending.length) {
        const { item, done } = pending[flushedIndex++];
        unflushedBytes -= Number(item);
        done();
      }
      while (grants.length > 0) credit += grants.shift()!;
      // Never granted more than it was sent, and never left the sender stuck.
      expect(credit).toBeLessThanOrEqual(window);
      expect(credit).toBeGreaterThan(0);
    };
    for (let round = 0; round < 3; round++) {
      for (const size of sizes) {
        let left = size;
        while (left > 0) {
          if (credit <= 0) flushAll(); // a sender out of credit waits for the reader
          // Split to the credit, as CreditedSender does; a message bigger than the window goes whole.
          const n = size > window ? left : Math.min(left, credit);
          r.write(String(n), n);
          credit -= n;
          left -= n;
          unflushedBytes += n;
          // The receiver never holds more than a window plus one message.
          expect(unflushedBytes).toBeLessThanOrEqual(window + (size > window ? size : 0));
        }
      }
    }
    flushAll();
  });
});

describe('CreditedQueue', () => {
  it('sends nothing while credit is not above zero, in order, and asks the source to pause only while items wait', () => {
    const sent: string[] = [];
    const backlog: boolean[] = [];
    const queue = new CreditedQueue<string>(10, (item) => sent.push(item), (waiting) => backlog.push(waiting));
    queue.push('a', 4);
    queue.push('b', 6); // exactly 0 left: the next waits
    queue.push('c', 5);
    queue.push('d', 1);
    expect(sent).toEqual(['a', 'b']);
    expect(backlog).toEqual([true]);
    expect(queue.pending).toBe(2);
    queue.grant(1); // above zero: one item may overshoot
    expect(sent).toEqual(['a', 'b', 'c']);
    queue.grant(3); // -4 + 3 = -1: still waiting
    expect(sent).toEqual(['a', 'b', 'c']);
    queue.grant(2);
    expect(sent).toEqual(['a', 'b', 'c', 'd']);
    expect(backlog).toEqual([true, false]);
  });

  it('never spends credit it does not have, whatever the sizes and grants (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.oneof(fc.record({ push: fc.integer({ min: 0, max: 100 }) }), fc.record({ grant: fc.integer({ min: 1, max: 100 }) })), { maxLength: 60 }),
        (window, steps) => {
          let balance = window;
          let pushed = 0;
          const sent: number[] = [];
          const queue = new CreditedQueue<number>(
            window,
            (index) => {
              // What the receiver checks: the sender had credit when it sent.
              expect(balance).toBeGreaterThan(0);
              balance -= sizes[index]!;
              sent.push(index);
            },
            () => {},
          );
          const sizes: number[] = [];
          for (const step of steps) {
            if ('push' in step) {
              sizes.push(step.push);
              queue.push(pushed++, step.push);
            } else {
              balance += step.grant;
              queue.grant(step.grant);
            }
          }
          expect(sent).toEqual(sent.map((_, i) => i));
          expect(sent.length + queue.pending).toBe(pushed);
        },
      ),
    );
  });
});

describe('writableSink', () => {
  it('writes each item and reports done once the writable has taken it', async () => {
    const written: Buffer[] = [];
    const writable = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk);
        setImmediate(callback);
      },
    });
    const sink = writableSink(writable);
    const done = await new Promise<Error | null | undefined>((resolve) => sink(Buffer.from('abc'), resolve));
    expect(done == null).toBe(true);
    expect(written.map((chunk) => chunk.toString())).toEqual(['abc']);
  });

  it('passes the writable’s error to done', async () => {
    const writable = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('disk full'));
      },
    });
    writable.on('error', () => {}); // the stream also emits it
    const sink = writableSink(writable);
    const done = await new Promise<Error | null | undefined>((resolve) => sink(Buffer.from('abc'), resolve));
    expect(done).toBeInstanceOf(Error);
    expect(done?.message).toBe('disk full');
  });

  it('takes the pieces of a gathered chunk as one batch: one writev, credit spent once and granted back as they go', async () => {
    const writes: string[][] = [];
    const writable = new Writable({
      // A socket writes a batch with one system call.
      writev(chunks, callback) {
        writes.push(chunks.map(({ chunk }) => (chunk as Buffer).toString()));
        setImmediate(callback);
      },
    });
    const grants: number[] = [];
    const r = new CreditedReceiver(writableSink(writable), 8, (n) => grants.push(n));
    expect(r.batches(8)).toBe(true);
    const pieces = ['ab', 'cd', 'ef', 'gh'].map(bytes);
    r.writeBatch(pieces, 8, (piece) => piece.length);
    // The window is spent: nothing more until the pieces are written.
    expect(() => r.write(bytes('x'), 1)).toThrow(BurrowError);
    await vi.waitFor(() => expect(grants.reduce((a, b) => a + b, 0)).toBe(8));
    expect(writes).toEqual([['ab', 'cd', 'ef', 'gh']]);
  });

  it('a sink that declines a batch of some size is asked by that size', () => {
    const sink: ItemSink<Buffer> = (_item, done) => done();
    sink.batch = (write) => write();
    sink.takesBatchOf = (length) => length >= 1024;
    const r = new CreditedReceiver(sink, 4096, () => {});
    expect(r.batches(1024)).toBe(true);
    expect(r.batches(1023)).toBe(false);
  });

  it('a sink without batches takes the pieces one by one, in order', () => {
    const items: string[] = [];
    const r = new CreditedReceiver<Buffer>((item, done) => {
      items.push(item.toString());
      done();
    }, 100, () => {});
    expect(r.batches(3)).toBe(false);
    r.writeBatch(['a', 'b', 'c'].map(bytes), 3, (piece) => piece.length);
    expect(items).toEqual(['a', 'b', 'c']);
  });
});

describe('sender and receiver together', () => {
  it('moves a stream through a small window to a slow writable, intact and in order', async () => {
    const window = 4_096;
    const input = Array.from({ length: 300 }, (_, i) => Buffer.alloc(1 + ((i * 977) % 3_000), i % 251));
    const source = Readable.from(input, { objectMode: false });
    const received: Buffer[] = [];
    let refused: unknown;
    const writable = new Writable({
      highWaterMark: 1_024,
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        setImmediate(callback); // a reader slower than the source
      },
    });
    let sender: CreditedSender | undefined;
    const r = new CreditedReceiver(writableSink(writable), window, (n) => setImmediate(() => sender!.grant(n)));
    await new Promise<void>((resolve) => {
      sender = new CreditedSender(source, window, {
        chunk: (data) => {
          try {
            r.write(data, data.length);
          } catch (error) {
            refused = error;
          }
        },
        end: () => writable.end(resolve),
      });
    });
    expect(refused).toBeUndefined();
    expect(Buffer.concat(received).equals(Buffer.concat(input))).toBe(true);
    expect(received.every((chunk) => chunk.length <= window)).toBe(true);
  });
});
