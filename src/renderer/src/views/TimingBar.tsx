// A request's time in phases, as one bar: held at the edge, then waiting
// for the local service's first byte, then the rest of the answer (or, for
// a WebSocket or gRPC stream, the conversation). Bars share one scale, so
// the slow requests stand out.
import type { RequestSummary } from '../../../shared/contract';
import { formatDuration } from '../lib/format';

export interface TimingPhases {
  edge: number;
  firstByte: number;
  rest: number;
  /** The local service answered (a head came); when not, the wait ended in the failure. */
  answered: boolean;
}

/** The phases the summary knows, in ms; undefined until the request has ended. */
export function timingPhases(row: RequestSummary): TimingPhases | undefined {
  if (row.durationMs === undefined) return undefined;
  const firstByte = Math.min(row.firstByteMs ?? row.durationMs, row.durationMs);
  return { edge: row.edgeWaitMs ?? 0, firstByte, rest: row.durationMs - firstByte, answered: row.firstByteMs !== undefined };
}

export function timingText(phases: TimingPhases): string {
  // A service that never answered (refused, cut before its head) had no first byte: it said "first byte 3 ms".
  if (!phases.answered) return `edge ${formatDuration(phases.edge)} → no answer from the local service, given up after ${formatDuration(phases.firstByte)}`;
  return `edge ${formatDuration(phases.edge)} → local service's first byte ${formatDuration(phases.firstByte)} → done ${formatDuration(phases.rest)}`;
}

/** The bar of a request: as long as its time against the longest shown, in its phases' colours. */
export function TimingBar({ row, longestMs }: { row: RequestSummary; longestMs: number }) {
  const phases = timingPhases(row);
  if (phases === undefined) return <span className="timing in-flight" aria-label="in flight" />;
  const total = phases.edge + phases.firstByte + phases.rest;
  const share = (ms: number): string => `${total === 0 ? 0 : (ms / total) * 100}%`;
  // A request of 0 ms still shows a sliver.
  const length = `max(3px, ${longestMs === 0 ? 100 : (total / longestMs) * 100}%)`;
  return (
    <span className="timing" title={timingText(phases)} data-testid="timing" style={{ width: length }}>
      <span className="phase edge" style={{ width: share(phases.edge) }} />
      <span className="phase wait" style={{ width: share(phases.firstByte) }} />
      <span className="phase rest" style={{ width: share(phases.rest) }} />
    </span>
  );
}

/** The scale of the bars: the longest request among these. */
export function longestMs(rows: readonly RequestSummary[]): number {
  let longest = 0;
  for (const row of rows) if (row.durationMs !== undefined) longest = Math.max(longest, row.durationMs + (row.edgeWaitMs ?? 0));
  return longest;
}
