// The inspector list's order by any column.
import { describe, expect, it } from 'vitest';
import type { RequestSummary } from '../../src/shared/contract.js';
import { newestFirst, nextSort, sortRequests } from '../../src/renderer/src/store/request-sort.js';

const row = (requestId: string, patch: Partial<RequestSummary>): RequestSummary => ({
  requestId,
  tunnel: 'web',
  protocol: 'http',
  method: 'GET',
  path: '/',
  state: 'done',
  startedAt: 0,
  bytesIn: 0,
  bytesOut: 0,
  messageCount: 0,
  ...patch,
});

// As the list hands them over: newest first.
const rows = [
  row('d', { startedAt: 4, durationMs: 5, path: '/b10', status: 200, bytesIn: 1, bytesOut: 1, tunnel: 'api' }),
  row('c', { startedAt: 3, state: 'in-flight', path: '/b9', tunnel: 'Web' }),
  row('b', { startedAt: 2, durationMs: 50, path: '/a', status: 404, bytesOut: 100, tunnel: 'web' }),
  row('a', { startedAt: 1, durationMs: 5, path: '/B2', status: 200, bytesIn: 9, tunnel: 'api' }),
];
const ids = (sorted: readonly RequestSummary[]): string => sorted.map((r) => r.requestId).join('');

describe('sortRequests', () => {
  it('keeps the newest first by default, and reverses for oldest first', () => {
    expect(sortRequests(rows, newestFirst)).toBe(rows);
    expect(ids(sortRequests(rows, { column: 'time', descending: false }))).toBe('abcd');
  });

  it('orders text naturally, ignoring case (/b9 before /b10), and keeps ties in list order', () => {
    expect(ids(sortRequests(rows, { column: 'path', descending: false }))).toBe('bacd');
    expect(ids(sortRequests(rows, { column: 'tunnel', descending: false }))).toBe('dacb');
  });

  it('puts requests in flight last by duration ascending, first descending', () => {
    expect(ids(sortRequests(rows, { column: 'took', descending: false }))).toBe('dabc');
    expect(ids(sortRequests(rows, { column: 'took', descending: true }))).toBe('cbda');
  });

  it('sorts by bytes both ways together, and by status', () => {
    expect(ids(sortRequests(rows, { column: 'bytes', descending: true }))).toBe('badc');
    expect(ids(sortRequests(rows, { column: 'status', descending: false }))).toBe('dabc');
  });
});

describe('nextSort', () => {
  it('flips the direction on the same column, and starts a new one where it is most useful', () => {
    expect(nextSort(newestFirst, 'time')).toEqual({ column: 'time', descending: false });
    expect(nextSort(newestFirst, 'took')).toEqual({ column: 'took', descending: true });
    expect(nextSort(newestFirst, 'path')).toEqual({ column: 'path', descending: false });
  });
});
