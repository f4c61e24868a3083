// What the request list shows, colours and filters for each way a request
// can end: gRPC by its gRPC status, a request the tunnel answered by status
// and code, plain HTTP by its status class.
import { describe, expect, it } from 'vitest';
import type { RequestSummary } from '../../src/shared/contract.js';
import { matchesStatusFilter, outcomeSearchText, requestOutcome, type StatusFilter } from '../../src/renderer/src/store/request-outcome.js';

const base: RequestSummary = { requestId: 'r', tunnel: 'app', protocol: 'http', method: 'GET', path: '/', state: 'done', startedAt: 1, bytesIn: 0, bytesOut: 0, messageCount: 0 };
const http = (status: number): RequestSummary => ({ ...base, status });
const grpcCall = (grpcStatus: number): RequestSummary => ({ ...base, protocol: 'grpc', method: 'POST', status: 200, grpcStatus });
const refused: RequestSummary = { ...base, state: 'error', status: 502, error: { code: 'BURROW_E_LOCAL_UNREACHABLE', message: 'connection refused' } };
const filters: StatusFilter[] = ['in-flight', '2xx', '3xx', '4xx', '5xx', 'grpc-error', 'error'];
const matching = (row: RequestSummary): StatusFilter[] => filters.filter((f) => matchesStatusFilter(row, f));

describe('requestOutcome', () => {
  it('shows a gRPC call by its gRPC status name and code, red unless OK, whatever its HTTP status', () => {
    expect(requestOutcome(grpcCall(12))).toEqual({ label: 'UNIMPLEMENTED (12)', tone: 'failed' });
    expect(requestOutcome(grpcCall(0))).toEqual({ label: 'OK (0)', tone: 'ok' });
    expect(requestOutcome(grpcCall(42)).label).toBe('CODE_42 (42)');
  });

  it('shows a request the tunnel answered with the status sent and the code, the message in the detail', () => {
    expect(requestOutcome(refused)).toEqual({ label: '502 LOCAL_UNREACHABLE', tone: 'failed', detail: 'BURROW_E_LOCAL_UNREACHABLE: connection refused' });
    const grpcRefused: RequestSummary = { ...refused, protocol: 'grpc', status: undefined, grpcStatus: 14 };
    expect(requestOutcome(grpcRefused).label).toBe('UNAVAILABLE (14) LOCAL_UNREACHABLE');
    expect(requestOutcome({ ...refused, status: undefined, error: undefined }).label).toBe('failed');
  });

  it('colours HTTP by class and shows requests in flight as such', () => {
    expect([200, 304, 404, 503].map((s) => requestOutcome(http(s)).tone)).toEqual(['ok', 'ok', 'warn', 'failed']);
    expect(requestOutcome({ ...base, state: 'in-flight' })).toEqual({ label: 'in flight …', tone: 'in-flight' });
  });
});

describe('matchesStatusFilter', () => {
  it('puts each outcome under the filters a user would look in', () => {
    expect(matching(http(204))).toEqual(['2xx']);
    expect(matching(http(503))).toEqual(['5xx']);
    expect(matching(refused)).toEqual(['5xx', 'error']);
    // Its HTTP 200 does not make a failed gRPC call a 2xx.
    expect(matching(grpcCall(12))).toEqual(['grpc-error', 'error']);
    expect(matching(grpcCall(0))).toEqual([]);
    expect(matching({ ...base, state: 'in-flight' })).toEqual(['in-flight']);
    expect(matchesStatusFilter(refused, '')).toBe(true);
  });

  it('lets a search find requests by error code, gRPC status name and tunnel', () => {
    expect(outcomeSearchText(refused)).toContain('BURROW_E_LOCAL_UNREACHABLE');
    expect(outcomeSearchText(grpcCall(5))).toContain('NOT_FOUND');
    expect(outcomeSearchText(http(200))).toContain('app');
  });
});
