// The list's order: by any column, either way. Newest first by default, as
// the list comes; ties keep that order, so equal rows do not jump about.
import type { RequestSummary } from '../../../shared/contract.js';
import { requestOutcome } from './request-outcome.js';

export type SortColumn = 'time' | 'id' | 'tunnel' | 'kind' | 'method' | 'path' | 'status' | 'took' | 'bytes';

export interface RequestSort {
  column: SortColumn;
  descending: boolean;
}

export const newestFirst: RequestSort = { column: 'time', descending: true };

type Key = string | number;

const sortKeys: Record<SortColumn, (row: RequestSummary) => Key> = {
  time: (row) => row.startedAt,
  id: (row) => row.requestId,
  tunnel: (row) => row.tunnel,
  kind: (row) => row.protocol,
  method: (row) => row.method,
  path: (row) => row.path,
  // gRPC calls by their gRPC status, the rest by HTTP status; requests in flight after those done.
  status: (row) => `${row.state === 'in-flight' ? 1 : 0} ${requestOutcome(row).label}`,
  // Requests still in flight have no duration yet: longest of all.
  took: (row) => row.durationMs ?? Number.POSITIVE_INFINITY,
  bytes: (row) => row.bytesIn + row.bytesOut,
};

/** The sort a header click makes: the other way on the same column; a new column starts with what is most useful first. */
export function nextSort(current: RequestSort, column: SortColumn): RequestSort {
  if (current.column === column) return { column, descending: !current.descending };
  return { column, descending: column === 'time' || column === 'took' || column === 'bytes' };
}

/** `rows` come newest first; returns them in the order asked for (a new array unless it is that order). */
export function sortRequests(rows: readonly RequestSummary[], sort: RequestSort): readonly RequestSummary[] {
  if (sort.column === 'time') return sort.descending ? rows : [...rows].reverse();
  const key = sortKeys[sort.column];
  const direction = sort.descending ? -1 : 1;
  return rows
    .map((row, index) => ({ row, index, key: key(row) }))
    .sort((a, b) => compare(a.key, b.key) * direction || a.index - b.index)
    .map(({ row }) => row);
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compare(a: Key, b: Key): number {
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : a < b ? -1 : 1;
  return collator.compare(String(a), String(b));
}
