// The request body of a gRPC call that a service may refuse: it waits for
// the stream, goes whole to the stream opened again, gives each piece's
// credit back once, and is no longer sent again once over grpc-js's retry
// buffer or once the service answered.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ReplayableRequestBody, ReplayBudget } from '../../src/main/tunnel/agent/replayable-request-body.js';

/** A stream that records what it takes; `failing` fails every write, as a refused HTTP/2 stream does. */
function recorder(failing = false): { stream: Writable; written: string[]; ended: () => boolean } {
  const written: string[] = [];
  let ended = false;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (failing) {
        callback(new Error('stream refused'));
        return;
      }
      written.push(chunk.toString());
      callback();
    },
    final(callback) {
      ended = true;
      callback();
    },
  });
  stream.on('error', () => {});
  return { stream, written, ended: () => ended };
}

const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ReplayableRequestBody', () => {
  it('holds what comes before the stream, then sends it in order, and ends it', async () => {
    const body = new ReplayableRequestBody();
    const credited: string[] = [];
    for (const text of ['a', 'b']) body.sink(Buffer.from(text), () => credited.push(text));
    body.end();
    const { stream, written, ended } = recorder();
    body.open(stream);
    await settled();
    expect({ written, credited, ended: ended() }).toEqual({ written: ['a', 'b'], credited: ['a', 'b'], ended: true });
  });

  it('sends everything again to the stream opened for a refused one, each piece credited once', async () => {
    const body = new ReplayableRequestBody();
    const credited: string[] = [];
    const piece = (text: string): void => body.sink(Buffer.from(text), () => credited.push(text));
    const first = recorder();
    body.open(first.stream);
    piece('a');
    await settled();
    // Refused after it took 'a'.
    body.detach();
    piece('b');
    body.end();
    expect(body.replayable).toBe(true);
    const second = recorder();
    body.reopen(second.stream);
    await settled();
    expect({ first: first.written, second: second.written, credited, ended: second.ended() }).toEqual({ first: ['a'], second: ['a', 'b'], credited: ['a', 'b'], ended: true });
  });

  it('credits a piece the refused stream failed only once another stream takes it', async () => {
    const body = new ReplayableRequestBody();
    const credited: string[] = [];
    const refused = recorder(true);
    body.open(refused.stream);
    body.sink(Buffer.from('a'), () => credited.push('a'));
    await settled();
    expect(credited).toEqual([]);
    body.detach();
    const again = recorder();
    body.reopen(again.stream);
    await settled();
    expect({ written: again.written, credited }).toEqual({ written: ['a'], credited: ['a'] });
  });

  it('is not sent again once past its limit or the budget of all calls, or once the service answered', () => {
    const small = new ReplayableRequestBody(4);
    small.open(recorder().stream);
    small.sink(Buffer.from('abc'), () => {});
    expect(small.replayable).toBe(true);
    small.sink(Buffer.from('de'), () => {});
    expect(small.replayable).toBe(false);
    expect(() => small.reopen(recorder().stream)).toThrow(/no longer be sent again/);

    // What all calls keep is bounded too; a call that ends gives its share back.
    const budget = new ReplayBudget(5);
    const first = new ReplayableRequestBody(100, budget);
    const second = new ReplayableRequestBody(100, budget);
    first.sink(Buffer.from('abcd'), () => {});
    second.sink(Buffer.from('ef'), () => {});
    expect([first.replayable, second.replayable, budget.usedBytes]).toEqual([true, false, 4]);
    first.commit();
    first.commit();
    expect(budget.usedBytes).toBe(0);

    const answered = new ReplayableRequestBody();
    answered.open(recorder().stream);
    answered.sink(Buffer.from('a'), () => {});
    answered.commit();
    expect(answered.replayable).toBe(false);
  });
});
