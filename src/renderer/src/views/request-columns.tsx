// The inspector list's columns: what each shows, how it sorts, its width
// (the user may drag it), and which give way first when the list is narrow,
// so that Path and Status always stay.
import type { ReactNode } from 'react';
import type { RequestSummary } from '../../../shared/contract';
import { formatBytes, formatTime } from '../lib/format';
import type { SortColumn } from '../store/request-sort';
import { RequestDuration } from './RequestDuration';
import { StatusCell, protocolLabel } from './request-status';
import { TimingBar } from './TimingBar';

export type ColumnId = SortColumn | 'timing';

export interface Column {
  id: ColumnId;
  label: string;
  /** Default width in px; Path takes what is left (at least this). */
  width: number;
  sort?: SortColumn;
  /** Hidden first when the list is narrow (higher first); Path and Status never. */
  givesWay: number;
  cell(row: RequestSummary, context: CellContext): ReactNode;
}

/** What a cell may need to know of the whole list. */
export interface CellContext {
  /** The longest request shown (edge wait plus duration), for the timing bars' scale. */
  longestMs: number;
}

export const columns: readonly Column[] = [
  { id: 'time', label: 'Time', width: 100, sort: 'time', givesWay: 4, cell: (row) => formatTime(row.startedAt) },
  { id: 'id', label: 'Request ID', width: 200, sort: 'id', givesWay: 9, cell: (row) => <span className="mono">{row.requestId}</span> },
  { id: 'tunnel', label: 'Tunnel', width: 96, sort: 'tunnel', givesWay: 6, cell: (row) => row.tunnel },
  { id: 'kind', label: 'Kind', width: 84, sort: 'kind', givesWay: 8, cell: (row) => protocolLabel(row.protocol) },
  { id: 'method', label: 'Method', width: 68, sort: 'method', givesWay: 5, cell: (row) => row.method },
  {
    id: 'path',
    label: 'Path',
    width: 140,
    sort: 'path',
    givesWay: 0,
    cell: (row) => (
      <span title={row.replayOf ? `${row.path} (replay of ${row.replayOf})` : row.path}>
        {row.replayOf && (
          <span className="muted" aria-label="replay">
            ↻{' '}
          </span>
        )}
        {row.path}
      </span>
    ),
  },
  { id: 'status', label: 'Status', width: 120, sort: 'status', givesWay: 0, cell: (row) => <StatusCell row={row} /> },
  { id: 'took', label: 'Took', width: 72, sort: 'took', givesWay: 2, cell: (row) => <RequestDuration row={row} /> },
  { id: 'timing', label: 'Timeline', width: 96, givesWay: 7, cell: (row, context) => <TimingBar row={row} longestMs={context.longestMs} /> },
  {
    id: 'bytes',
    label: 'Bytes in / out',
    width: 120,
    sort: 'bytes',
    givesWay: 3,
    cell: (row) => (
      <span title={`${row.bytesIn} bytes in, ${row.bytesOut} bytes out${row.messageCount > 0 ? `, ${row.messageCount} messages` : ''}`}>
        ↑{formatBytes(row.bytesIn)} ↓{formatBytes(row.bytesOut)}
        {row.messageCount > 0 && ` · ${row.messageCount} msg`}
      </span>
    ),
  },
];

export type ColumnWidths = Partial<Record<ColumnId, number>>;

export const minColumnWidth = 40;
/** Padding and gaps of a row, in px: 0.6rem each side plus 0.5rem between cells. */
const rowChrome = (count: number): number => 19 + 8 * (count - 1);

/** The columns that fit `available` px, those that give way first left out; Path and Status always stay. */
export function fittingColumns(available: number, widths: ColumnWidths): Column[] {
  const shown = [...columns];
  const total = (): number => shown.reduce((sum, column) => sum + widthOf(column, widths), 0) + rowChrome(shown.length);
  while (total() > available) {
    const next = shown.filter((column) => column.givesWay > 0).sort((a, b) => b.givesWay - a.givesWay)[0];
    if (next === undefined) break;
    shown.splice(shown.indexOf(next), 1);
  }
  return shown;
}

export function widthOf(column: Column, widths: ColumnWidths): number {
  return widths[column.id] ?? column.width;
}

/** The CSS grid for a row of these columns: Path stretches. */
export function gridTemplate(shown: readonly Column[], widths: ColumnWidths): string {
  return shown.map((column) => (column.id === 'path' ? `minmax(${widthOf(column, widths)}px, 1fr)` : `${widthOf(column, widths)}px`)).join(' ');
}
