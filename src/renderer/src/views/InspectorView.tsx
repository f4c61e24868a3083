// Inspector: every request by request_id, live (in flight included), in a
// virtualised list so thousands of rows cost what a screenful does; a
// filter bar; the selected request's detail beside it.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { RequestSummary } from '../../../shared/contract';
import { useApi, useApp } from '../app-context';
import { formatBytes, formatDuration, formatTime } from '../lib/format';
import { CommandError } from '../lib/command-error';
import { useCommand } from '../lib/use-command';
import { filteredRequests } from '../store/app-store';
import { requestOutcome, type StatusFilter } from '../store/request-outcome';
import { tunnelName } from '../../../shared/tunnel-name';
import { RequestDetailPane } from './RequestDetailPane';

const rowHeight = 30;

export function InspectorView() {
  const requests = useApp((s) => s.requests);
  const filter = useApp((s) => s.filter);
  const deepMatches = useDeepSearch(filter.text);
  const rows = useMemo(() => filteredRequests(requests, filter, deepMatches), [requests, filter, deepMatches]);
  const selectedId = useApp((s) => s.selectedId);
  return (
    <section className="view inspector" aria-labelledby="inspector-title">
      <h2 id="inspector-title" className="visually-hidden">
        Inspector
      </h2>
      <FilterBar rows={rows} total={requests.ids.length} />
      <div className={selectedId ? 'inspector-body with-detail' : 'inspector-body'}>
        <RequestTable rows={rows} total={requests.ids.length} selectedId={selectedId} />
        {selectedId && <RequestDetailPane />}
      </div>
    </section>
  );
}

/** How often a search in headers and bodies is run again while traffic comes in. */
const deepSearchRefreshMs = 1_000;

/** The ids whose headers or kept bodies contain the text: asked of main shortly after typing stops, then every second. */
function useDeepSearch(text: string): ReadonlySet<string> | undefined {
  const api = useApi();
  const [found, setFound] = useState<{ text: string; ids: ReadonlySet<string> }>();
  useEffect(() => {
    const wanted = text.trim();
    if (wanted === '') return;
    let stopped = false;
    const search = (): void =>
      void api.searchRequests({ text: wanted }).then(
        ({ requestIds }) => !stopped && setFound({ text: wanted, ids: new Set(requestIds) }),
        () => {},
      );
    const first = setTimeout(search, 250);
    const again = setInterval(search, deepSearchRefreshMs);
    return () => {
      stopped = true;
      clearTimeout(first);
      clearInterval(again);
    };
  }, [api, text]);
  return found?.text === text.trim() ? found.ids : undefined;
}

function FilterBar({ rows, total }: { rows: RequestSummary[]; total: number }) {
  const shown = rows.length;
  const requests = useApp((s) => s.requests);
  const filter = useApp((s) => s.filter);
  const setFilter = useApp((s) => s.setFilter);
  const tunnels = useApp((s) => s.tunnels);
  // Tunnels by the name their requests carry (the server's, for unnamed ones), and any seen in traffic since removed.
  const names = useMemo(() => {
    const seen = new Set(tunnels.map(tunnelName));
    for (const summary of requests.byId.values()) seen.add(summary.tunnel);
    seen.delete('');
    return [...seen].sort();
  }, [tunnels, requests]);
  return (
    <div className="filter-bar" role="search">
      <input type="search" placeholder="Search id, path, status, code, tunnel, headers, bodies" value={filter.text} onChange={(e) => setFilter({ text: e.target.value })} aria-label="Filter text" />
      <select value={filter.tunnel} onChange={(e) => setFilter({ tunnel: e.target.value })} aria-label="Tunnel">
        <option value="">All tunnels</option>
        {names.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
      <select value={filter.protocol} onChange={(e) => setFilter({ protocol: e.target.value as never })} aria-label="Protocol">
        <option value="">All protocols</option>
        <option value="http">HTTP</option>
        <option value="websocket">WebSocket</option>
        <option value="grpc">gRPC</option>
      </select>
      <select value={filter.status} onChange={(e) => setFilter({ status: e.target.value as StatusFilter })} aria-label="Status">
        <option value="">Any status</option>
        <option value="in-flight">In flight</option>
        <option value="2xx">2xx</option>
        <option value="3xx">3xx</option>
        <option value="4xx">4xx</option>
        <option value="5xx">5xx</option>
        <option value="grpc-error">gRPC errors</option>
        <option value="error">Failed (tunnel or gRPC)</option>
      </select>
      <span className="muted" data-testid="request-count">
        {shown === total ? `${total} requests` : `${shown} of ${total} requests`}
      </span>
      <ExportHar rows={rows} filtered={shown !== total} />
      <ImportHar />
      <ClearButton rows={rows} filtered={shown !== total} />
    </div>
  );
}

/** Downloads what the filter shows (everything when nothing is filtered) as a HAR 1.2 file. */
function ExportHar({ rows, filtered }: { rows: RequestSummary[]; filtered: boolean }) {
  const api = useApi();
  const command = useCommand();
  const exportShown = (): void =>
    void command.run(async () => {
      const har = await api.exportHar(filtered ? { requestIds: rows.map((r) => r.requestId) } : {});
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([JSON.stringify(har, null, 2)], { type: 'application/json' }));
      link.download = `burrow-${new Date().toISOString().replace(/[:.]/g, '-')}.har`;
      link.click();
      // After the download has taken the data.
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    });
  return (
    <>
      <button type="button" disabled={command.busy || rows.length === 0} onClick={exportShown} title="Save these requests as a HAR 1.2 file">
        {filtered ? `Export ${rows.length} as HAR` : 'Export HAR'}
      </button>
      <CommandError error={command.error} />
    </>
  );
}

/** Shows the requests of a HAR file (a browser's, or an export) in the list, beside live traffic. */
function ImportHar() {
  const api = useApi();
  const command = useCommand();
  const [report, setReport] = useState<string | undefined>();
  const importFile = (file: File | undefined): void => {
    if (file === undefined) return;
    void command.run(async () => {
      const { imported, skipped } = await api.importHar({ text: await file.text() });
      setReport(`Imported ${imported} request${imported === 1 ? '' : 's'} from ${file.name}${skipped.length > 0 ? `; left out ${skipped.length}: ${skipped.join('; ')}` : ''}`);
    });
  };
  return (
    <>
      <label className="file-button">
        Import HAR
        <input type="file" accept=".har,application/json" disabled={command.busy} onChange={(e) => importFile(e.target.files?.[0])} />
      </label>
      {report && (
        <span className="muted" role="status">
          {report}
        </span>
      )}
      <CommandError error={command.error} />
    </>
  );
}

/** Clears what the filter shows (everything when nothing is filtered), once the user says yes. */
function ClearButton({ rows, filtered }: { rows: RequestSummary[]; filtered: boolean }) {
  const api = useApi();
  const command = useCommand();
  const [confirming, setConfirming] = useState(false);
  const count = rows.length;
  const clear = (): void => {
    setConfirming(false);
    void command.run(() => api.clearTraffic(filtered ? { requestIds: rows.map((r) => r.requestId) } : undefined));
  };
  return (
    <>
      {confirming ? (
        <span role="group" aria-label="Confirm clear" className="confirm">
          {filtered ? `Clear the ${count} shown?` : `Clear all ${count} requests?`}
          <button type="button" className="danger" onClick={clear}>
            Clear
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </span>
      ) : (
        <button type="button" disabled={command.busy || count === 0} onClick={() => setConfirming(true)}>
          {filtered ? `Clear ${count} shown` : 'Clear'}
        </button>
      )}
      <CommandError error={command.error} />
    </>
  );
}

function RequestTable({ rows, total, selectedId }: { rows: RequestSummary[]; total: number; selectedId?: string }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const select = useApp((s) => s.select);
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scrollRef.current, estimateSize: () => rowHeight, overscan: 10 });
  if (rows.length === 0) {
    return total > 0 ? (
      <p className="empty">No requests match the filter.</p>
    ) : (
      <p className="empty">No requests yet. Send traffic to a tunnel's public URL and it shows up here as it happens.</p>
    );
  }
  // One Tab stop for the whole list; the keys move the selection, and the detail follows it.
  const onKeyDown = (event: React.KeyboardEvent): void => {
    const at = rows.findIndex((r) => r.requestId === selectedId);
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
    <div className="request-table" role="table" aria-label="Requests" tabIndex={0} onKeyDown={onKeyDown} data-testid="request-table">
      <div className="request-row header" role="row">
        <span role="columnheader">Time</span>
        <span role="columnheader">Request ID</span>
        <span role="columnheader">Tunnel</span>
        <span role="columnheader">Kind</span>
        <span role="columnheader">Method</span>
        <span role="columnheader">Path</span>
        <span role="columnheader">Status</span>
        <span role="columnheader">Took</span>
        <span role="columnheader">Bytes in / out</span>
      </div>
      <div className="request-scroll" ref={scrollRef}>
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
                style={{ position: 'absolute', top: 0, left: 0, right: 0, height: rowHeight, transform: `translateY(${item.start}px)` }}
                onClick={() => select(row.requestId)}
              >
                <span role="cell">{formatTime(row.startedAt)}</span>
                <span role="cell" className="mono">
                  {row.requestId}
                </span>
                <span role="cell">{row.tunnel}</span>
                <span role="cell">{protocolLabel(row.protocol)}</span>
                <span role="cell">{row.method}</span>
                <span role="cell" className="path" title={row.replayOf ? `${row.path} (replay of ${row.replayOf})` : row.path}>
                  {row.replayOf && (
                    <span className="muted" aria-label="replay">
                      ↻{' '}
                    </span>
                  )}
                  {row.path}
                </span>
                <span role="cell">
                  <StatusCell row={row} />
                </span>
                <span role="cell">{formatDuration(row.durationMs)}</span>
                <span role="cell" title={`${row.bytesIn} bytes in, ${row.bytesOut} bytes out${row.messageCount > 0 ? `, ${row.messageCount} messages` : ''}`}>
                  ↑{formatBytes(row.bytesIn)} ↓{formatBytes(row.bytesOut)}
                  {row.messageCount > 0 && ` · ${row.messageCount} msg`}
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

export function protocolLabel(protocol: RequestSummary['protocol']): string {
  return protocol === 'grpc' ? 'gRPC' : protocol === 'websocket' ? 'WebSocket' : 'HTTP';
}

export function StatusCell({ row }: { row: RequestSummary }) {
  const outcome = requestOutcome(row);
  return (
    <span className={`badge ${outcome.tone}`} title={outcome.detail ?? outcome.label} data-testid="status">
      {outcome.label}
    </span>
  );
}
