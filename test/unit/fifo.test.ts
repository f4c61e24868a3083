// Fifo behaves as an array used as a queue, across its compactions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/main/service/fifo.js';

describe('Fifo', () => {
  it('gives items back in the order they came, whatever the mix of pushes and shifts', () => {
    const operation = fc.oneof(fc.record({ push: fc.nat({ max: 3000 }) }), fc.record({ shift: fc.nat({ max: 3000 }) }), fc.constant('clear' as const));
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const fifo = new Fifo<number>();
        let model: number[] = [];
        let next = 0;
        for (const op of operations) {
          if (op === 'clear') {
            fifo.clear();
            model = [];
          } else if ('push' in op) {
            for (let i = 0; i < op.push; i++) {
              fifo.push(next);
              model.push(next++);
            }
          } else {
            for (let i = 0; i < op.shift; i++) expect(fifo.shift()).toBe(model.shift());
          }
          expect(fifo.length).toBe(model.length);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('is empty when new and after a clear', () => {
    const fifo = new Fifo<string>();
    expect(fifo.shift()).toBeUndefined();
    fifo.push('a');
    fifo.clear();
    expect([fifo.length, fifo.shift()]).toEqual([0, undefined]);
  });
});
