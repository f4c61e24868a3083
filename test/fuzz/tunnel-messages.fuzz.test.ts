// Fuzzing the server with what an agent sends: random sequences of
// TunnelMessages (any kind, any field values, wrong request_ids) and bytes
// that do not decode, answering real public requests. Every public request
// gets a definite answer, nothing crashes, the broken ones are reported on
// the control stream, and a well-behaved tunnel on the same server keeps
// working. 10,000 exchanges in CI; FUZZ_RUNS raises it.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, ProtocolType, type TunnelMessage } from '../../src/main/gen/burrow/v1/tunnel.js';
import { ErrorCode } from '../../src/main/tunnel/errors.js';
import { connectFakeAgent, encode, type FakeAgent } from '../helpers/fake-agent.js';
import { publicRequest, startBackend, startTunnel, type Backend, type TunnelFixture } from '../helpers/common.js';

const exchanges = Number(process.env.FUZZ_RUNS ?? 10_000);
const perRun = 50;

let fixture: TunnelFixture;
let backend: Backend;
let fake: FakeAgent;
/** The script each pending request_id will get, by the public path that asked. */
const scripts = new Map<string, Step[]>();

type Step = { kind: 'message'; message: TunnelMessage; ownId: boolean } | { kind: 'garbage'; bytes: Uint8Array };

const header = fc.record({ name: fc.string({ maxLength: 12 }), value: fc.string({ maxLength: 20 }) });
const bytes = fc.uint8Array({ maxLength: 2_048 }).map((a) => Buffer.from(a));
const payload: fc.Arbitrary<NonNullable<TunnelMessage['payload']>> = fc.oneof(
  fc.record({
    $case: fc.constant('responseHead' as const),
    value: fc.record({ status: fc.oneof(fc.integer({ min: 100, max: 599 }), fc.nat({ max: 100_000 })), statusMessage: fc.string({ maxLength: 10 }), headers: fc.array(header, { maxLength: 4 }), endStream: fc.boolean(), body: bytes }),
  }),
  fc.record({ $case: fc.constant('bodyChunk' as const), value: fc.record({ data: bytes, endStream: fc.boolean() }) }),
  fc.record({ $case: fc.constant('trailers' as const), value: fc.record({ headers: fc.array(header, { maxLength: 3 }) }) }),
  fc.record({ $case: fc.constant('windowUpdate' as const), value: fc.record({ bytes: fc.nat() }) }),
  fc.record({ $case: fc.constant('reset' as const), value: fc.record({ code: fc.string({ maxLength: 20 }), message: fc.string({ maxLength: 20 }) }) }),
  fc.record({
    $case: fc.constant('wsFrame' as const),
    value: fc.record({ fin: fc.boolean(), opcode: fc.nat({ max: 15 }), payload: bytes, closeCode: fc.nat({ max: 5_000 }), closeReason: fc.string({ maxLength: 10 }) }),
  }),
  fc.record({ $case: fc.constant('hello' as const), value: fc.record({ agentId: fc.string(), version: fc.string(), relaysContinue: fc.boolean() }) }),
  fc.record({ $case: fc.constant('heartbeat' as const), value: fc.record({ sentAtUnixMs: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), echoUnixMs: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }) }) }),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('message' as const), message: fc.record({ requestId: fc.string({ maxLength: 8 }), protocolType: fc.nat({ max: 5 }), messageType: fc.nat({ max: 6 }), payload, traceId: fc.constant('') }), ownId: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
);
const script = fc.array(step, { minLength: 1, maxLength: 6 });

beforeAll(async () => {
  backend = await startBackend((_req, res) => res.end('steady'));
  // Short timeouts bound the requests whose script never answers, or never finishes.
  fixture = await startTunnel([{ name: 'steady', protocol: 'http', target: String(backend.port) }], { config: { requestTimeoutMs: 150 }, limits: { idleTimeoutMs: 300 } });
  fake = await connectFakeAgent(fixture.server.controlPort, 'fuzz');
  fake.onRequest((message) => {
    if (message.payload?.$case !== 'requestHead') return;
    const steps = scripts.get(message.payload.value.path);
    scripts.delete(message.payload.value.path);
    for (const s of steps ?? []) {
      if (s.kind === 'garbage') fake.sendData(Buffer.from(s.bytes));
      else fake.sendData(encode({ ...s.message, requestId: s.ownId ? message.requestId : s.message.requestId, messageType: s.message.messageType as MessageType, protocolType: s.message.protocolType as ProtocolType }));
    }
  });
});

afterAll(async () => {
  fake?.close();
  await fixture?.stop();
  await backend?.close();
});

describe('fuzzing agent messages', () => {
  it(`answers every public request definitely across ${exchanges} random exchanges`, async () => {
    let serial = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(script, { minLength: perRun, maxLength: perRun }), async (batch) => {
        const answers = await Promise.all(
          batch.map((steps) => {
            const path = `/case/${serial++}`;
            scripts.set(path, steps);
            return publicRequest({ port: fixture.publicPort, host: 'fuzz.localhost', path }).then(
              (res) => res.status,
              () => -1, // a cut connection is a definite answer too
            );
          }),
        );
        for (const status of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
        return answers.every((status) => status === -1 || (status >= 100 && status <= 599));
      }),
      { numRuns: Math.ceil(exchanges / perRun), endOnFailure: true },
    );
    // The server is still whole: nothing pending, and the other tunnel serves.
    // (Its 150 ms response timeout, there to bound the fuzz, can run out on a
    // busy machine: each try is a definite answer, and one must succeed.)
    await expect.poll(() => fixture.server.inflightRequests).toBe(0);
    const steady = (): Promise<string> => publicRequest({ port: fixture.publicPort, host: 'steady.localhost' }).then((res) => res.body.toString());
    await expect.poll(steady, { timeout: 10_000, interval: 50 }).toBe('steady');
    // Broken messages were reported to the agent that sent them.
    expect(fake.controlReceived.some((m) => m.payload?.$case === 'error' && m.payload.value.code === ErrorCode.Protocol)).toBe(true);
    expect(statuses.get(502) ?? 0).toBeGreaterThan(0);
  });
});
