// How a request ended, as the list shows, colours and filters it: for gRPC
// the gRPC status (an UNIMPLEMENTED call is not a green 200), for a request
// the tunnel answered itself its status beside the code saying why.
import { grpcStatusName } from '../../../shared/grpc-status.js';
import type { RequestSummary } from '../../../shared/contract.js';

export type OutcomeTone = 'ok' | 'warn' | 'failed' | 'in-flight' | '';

export interface RequestOutcome {
  label: string;
  tone: OutcomeTone;
  /** Why it failed, for a tooltip. */
  detail?: string;
}

/** Status filters: an HTTP status class, in flight, failed gRPC calls, or anything that failed. */
export type StatusFilter = '' | 'in-flight' | '2xx' | '3xx' | '4xx' | '5xx' | 'grpc-error' | 'error';

const shortCode = (code: string): string => code.replace(/^BURROW_E_/, '');

function httpTone(status: number): OutcomeTone {
  return status >= 500 ? 'failed' : status >= 400 ? 'warn' : 'ok';
}

export function requestOutcome(row: RequestSummary): RequestOutcome {
  if (row.state === 'in-flight') return { label: `${row.status ?? 'in flight'} …`, tone: 'in-flight' };
  const answer = row.grpcStatus !== undefined ? `${grpcStatusName(row.grpcStatus)} (${row.grpcStatus})` : row.status !== undefined ? String(row.status) : '';
  if (row.state === 'error') {
    const code = row.error ? shortCode(row.error.code) : 'failed';
    return { label: answer === '' ? code : `${answer} ${code}`, tone: 'failed', detail: row.error && `${row.error.code}: ${row.error.message}` };
  }
  if (row.grpcStatus !== undefined) return { label: answer, tone: row.grpcStatus === 0 ? 'ok' : 'failed' };
  return row.status === undefined ? { label: 'done', tone: '' } : { label: answer, tone: httpTone(row.status) };
}

export function matchesStatusFilter(row: RequestSummary, filter: StatusFilter): boolean {
  switch (filter) {
    case '':
      return true;
    case 'in-flight':
      return row.state === 'in-flight';
    case 'grpc-error':
      return row.grpcStatus !== undefined && row.grpcStatus !== 0;
    case 'error':
      return row.state === 'error' || (row.grpcStatus !== undefined && row.grpcStatus !== 0);
    default:
      // A gRPC call's status is its gRPC status: its HTTP 200 says nothing.
      return row.grpcStatus === undefined && row.status !== undefined && Math.floor(row.status / 100) === Number(filter[0]);
  }
}

/** The words a text search finds a request by, beyond id, method and path. */
export function outcomeSearchText(row: RequestSummary): string {
  return `${row.status ?? ''} ${row.grpcStatus !== undefined ? grpcStatusName(row.grpcStatus) : ''} ${row.error?.code ?? ''} ${row.tunnel}`;
}
