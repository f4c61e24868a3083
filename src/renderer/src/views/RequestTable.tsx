// The inspector's list: a virtualised table (thousands of rows cost what a
// screenful does), sorted by any column, columns the user can widen, those
// that do not fit left out (Path and Status always stay), one Tab stop
// with the keys moving the selection.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import type { RequestSummary } from '../../../shared/contract';
import { useApp } from '../app-context';
import { nextSort } from '../store/request-sort';
import { columns, fittingColumns, gridTemplate, minColumnWidth, widthOf, type CellContext, type Column, type ColumnWidths } from './request-columns';
import { longestMs } from './TimingBar';

const rowHeight = 30;
const widthsKey = 'burrow.inspector.columnWidths';

export interface RequestTableProps {
  rows: readonly RequestSummary[];
  total: number;
  /** Requests that match but wait (the list is paused). */
  waiting?: number;
  /** Headers and bodies are still being searched for the filter's text: what matches there is not known yet. */
  searching?: boolean;
  selectedId?: string;
  /** The list was scrolled away from its top, or back to it: new rows wait meanwhile. */
  onScrolledAway(away: boolean): void;
  /** Bumped to scroll back to the top (new rows shown). */
  scrollToTopSignal: number;
}

export function RequestTable({ rows, total, waiting = 0, searching = false, selectedId, onScrolledAway, scrollToTopSignal }: RequestTableProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const lastSelected = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (selectedId !== undefined) lastSelected.current = selectedId;
  }, [selectedId]);
  const [available, measure] = useWidth();
  const select = useApp((s) => s.select);
  const sort = useApp((s) => s.sort);
  const setSort = useApp((s) => s.setSort);
  const [widths, setWidths] = useColumnWidths();
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scrollRef.current, estimateSize: () => rowHeight, overscan: 10 });
  useEffect(() => {
    if (scrollToTopSignal > 0) scrollRef.current?.scrollTo({ top: 0 });
  }, [scrollToTopSignal]);
  if (rows.length === 0) {
    return waiting > 0 ? (
      <p className="empty">No request shown matches the filter; {waiting} new that match wait while the list is paused.</p>
    ) : total > 0 && searching ? (
      <p className="empty">Searching headers and bodies…</p>
    ) : total > 0 ? (
      <p className="empty">No requests match the filter.</p>
    ) : (
      <p className="empty">No requests yet. Send traffic to a tunnel's public URL and it shows up here as it happens.</p>
    );
  }
  const shown = available === undefined ? columns : fittingColumns(available, widths);
  const template = gridTemplate(shown, widths);
  const context: CellContext = { longestMs: longestMs(rows) };
  // One Tab stop for the whole list; the keys move the selection, and the detail follows it.
  const onKeyDown = (event: React.KeyboardEvent): void => {
    if (event.target !== event.currentTarget) return;
    // After Esc closed the detail, the keys go on from the row that was open (Enter opened the top row).
    const at = rows.findIndex((r) => r.requestId === (selectedId ?? lastSelected.current));
    if (event.key === 'Enter' && selectedId === undefined && at >= 0) {
      select(rows[at]!.requestId);
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    const last = rows.length - 1;
    const next =
      event.key === 'ArrowDown' ? Math.min(at + 1, last) : event.key === 'ArrowUp' ? Math.max(at - 1, 0) : event.key === 'Home' ? 0 : event.key === 'End' ? last : event.key === 'Enter' && at < 0 ? 0 : undefined;
    if (next !== undefined) {
      select(rows[next]!.requestId);
      virtualizer.scrollToIndex(next);
    } else if (event.key === 'Escape' && selectedId !== undefined) {
      select(undefined);
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  };
  return (
    <div className="request-table" role="table" aria-label="Requests" tabIndex={0} onKeyDown={onKeyDown} data-testid="request-table" ref={measure}>
      <div className="request-row header" role="row" style={{ gridTemplateColumns: template }}>
        {shown.map((column) => (
          <HeaderCell
            key={column.id}
            column={column}
            sorted={column.sort !== undefined && sort.column === column.sort ? (sort.descending ? 'descending' : 'ascending') : undefined}
            onSort={() => column.sort !== undefined && setSort(nextSort(sort, column.sort))}
            onResize={(width) => setWidths({ ...widths, [column.id]: width })}
            width={widthOf(column, widths)}
          />
        ))}
      </div>
      <div className="request-scroll" ref={scrollRef} onScroll={(event) => onScrolledAway(event.currentTarget.scrollTop > 0)}>
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index]!;
            return (
              <div
                key={row.requestId}
                role="row"
                tabIndex={-1}
                aria-selected={row.requestId === selectedId}
                className={`request-row state-${row.state}${row.requestId === selectedId ? ' selected' : ''}`}
                data-testid="request-row"
                data-request-id={row.requestId}
                data-state={row.state}
                data-protocol={row.protocol}
                style={{ position: 'absolute', top: 0, left: 0, right: 0, height: rowHeight, transform: `translateY(${item.start}px)`, gridTemplateColumns: template }}
                onClick={() => select(row.requestId)}
              >
                {shown.map((column) => (
                  <span key={column.id} role="cell" className={`cell-${column.id}`}>
                    {column.cell(row, context)}
                  </span>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

interface HeaderCellProps {
  column: Column;
  sorted: 'ascending' | 'descending' | undefined;
  width: number;
  onSort(): void;
  onResize(width: number): void;
}

function HeaderCell({ column, sorted, width, onSort, onResize }: HeaderCellProps) {
  // Dragging the edge: the width follows the pointer from where it started.
  const startResize = (event: ReactPointerEvent<HTMLSpanElement>): void => {
    event.preventDefault();
    event.stopPropagation();
    const startX = event.clientX;
    const move = (moved: PointerEvent): void => onResize(Math.max(minColumnWidth, Math.round(width + moved.clientX - startX)));
    const stop = (): void => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', stop);
      window.removeEventListener('pointercancel', stop);
    };
    // On the window: the pointer leaves the thin handle as soon as it moves.
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', stop);
    window.addEventListener('pointercancel', stop);
  };
  return (
    <span role="columnheader" aria-sort={sorted ?? 'none'} className={`cell-${column.id}`}>
      {column.sort === undefined ? (
        <span className="column-label">{column.label}</span>
      ) : (
        <button type="button" className="sort" tabIndex={-1} onClick={onSort} title={`Sort by ${column.label.toLowerCase()}`}>
          {column.label}
          {sorted && <span aria-hidden="true">{sorted === 'descending' ? ' ▾' : ' ▴'}</span>}
        </button>
      )}
      <span className="column-resize" aria-hidden="true" title={`Drag to widen or narrow ${column.label}`} onPointerDown={startResize} />
    </span>
  );
}

/** Widths the user dragged, kept across sessions in this browser or app. */
function useColumnWidths(): [ColumnWidths, (widths: ColumnWidths) => void] {
  const [widths, setWidths] = useState<ColumnWidths>(() => {
    try {
      const saved: unknown = JSON.parse(localStorage.getItem(widthsKey) ?? '{}');
      return typeof saved === 'object' && saved !== null ? (saved as ColumnWidths) : {};
    } catch {
      return {};
    }
  });
  const save = (next: ColumnWidths): void => {
    setWidths(next);
    try {
      localStorage.setItem(widthsKey, JSON.stringify(next));
    } catch {
      // Storage refused (private mode, quota): the widths hold for this session.
    }
  };
  return [widths, save];
}

/** An element's content width, following resizes; the second value is its ref. */
function useWidth(): [number | undefined, (element: HTMLElement | null) => void] {
  const [element, setElement] = useState<HTMLElement | null>(null);
  const [width, setWidth] = useState<number>();
  useEffect(() => {
    if (element === null) return;
    const observer = new ResizeObserver(([entry]) => setWidth(entry!.contentRect.width));
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);
  return [width, setElement];
}
