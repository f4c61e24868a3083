// Inspector: every request by request_id, live (in flight included), in a
// list (see RequestTable); a filter bar; new rows held while the user reads
// (paused, or scrolled down) with a count of those waiting; the selected
// request's detail beside it.
import { useEffect, useMemo, useState } from 'react';
import { harTooLarge, maxHarImportBytes, type RequestSummary } from '../../../shared/contract';
import { useApi, useApp } from '../app-context';
import { CommandError } from '../lib/command-error';
import { downloadFile } from '../lib/download';
import { useCommand } from '../lib/use-command';
import { filteredRequests } from '../store/app-store';
import { type StatusFilter } from '../store/request-outcome';
import { sortRequests } from '../store/request-sort';
import { tunnelName } from '../../../shared/tunnel-name';
import { RequestDetailPane } from './RequestDetailPane';
import { RequestTable } from './RequestTable';

export function InspectorView() {
  const requests = useApp((s) => s.requests);
  const filter = useApp((s) => s.filter);
  const deepMatches = useDeepSearch(filter.text);
  const sort = useApp((s) => s.sort);
  const live = useMemo(() => sortRequests(filteredRequests(requests, filter, deepMatches), sort), [requests, filter, deepMatches, sort]);
  const hold = useHold(requests.ids);
  const heldRows = useMemo(() => (hold.held === undefined ? live : live.filter((r) => hold.held!.has(r.requestId))), [live, hold.held]);
  // Held because the list was scrolled, and none of it matches now (a new filter): nothing is left to keep still,
  // and "no requests match" hid the matching ones that waited. The hold ends: the list follows live traffic again.
  const nothingHeld = hold.held !== undefined && !hold.paused && heldRows.length === 0 && live.length > 0;
  const rows = nothingHeld ? live : heldRows;
  const { resume } = hold;
  useEffect(() => {
    if (nothingHeld) resume();
  }, [nothingHeld, resume]);
  const selectedId = useApp((s) => s.selectedId);
  return (
    <section className="view inspector" aria-labelledby="inspector-title">
      <h2 id="inspector-title" className="visually-hidden">
        Inspector
      </h2>
      <FilterBar rows={rows} total={requests.ids.length}>
        <LiveControls hold={hold} waiting={live.length - rows.length} />
      </FilterBar>
      <div className={selectedId ? 'inspector-body with-detail' : 'inspector-body'}>
        <RequestTable rows={rows} total={requests.ids.length} waiting={live.length - rows.length} searching={filter.text.trim() !== '' && deepMatches === undefined} selectedId={selectedId} onScrolledAway={hold.scrolledAway} scrollToTopSignal={hold.shownAt} />
        {selectedId && <RequestDetailPane />}
      </div>
    </section>
  );
}

interface Hold {
  /** The requests shown while new ones wait; undefined when the list follows live traffic. */
  held?: ReadonlySet<string>;
  paused: boolean;
  pause(): void;
  /** Shows what waited and follows live traffic again. */
  resume(): void;
  scrolledAway(away: boolean): void;
  /** Bumped by resume, for the list to scroll to its top. */
  shownAt: number;
}

/** New rows wait while the user has paused the list or scrolled away from its top, so rows do not move under the reader. */
function useHold(ids: readonly string[]): Hold {
  const [state, setState] = useState<{ held?: ReadonlySet<string>; why?: 'paused' | 'scrolled'; shownAt: number }>({ shownAt: 0 });
  const freeze = (why: 'paused' | 'scrolled'): void => setState((s) => ({ ...s, held: s.held ?? new Set(ids), why: s.why === 'paused' ? 'paused' : why }));
  return {
    held: state.held,
    paused: state.why === 'paused',
    pause: () => freeze('paused'),
    resume: () => setState((s) => ({ shownAt: s.shownAt + 1 })),
    scrolledAway: (away) => {
      if (away && state.held === undefined) freeze('scrolled');
      // Back at the top by scrolling: what waited comes in.
      else if (!away && state.why === 'scrolled') setState((s) => ({ shownAt: s.shownAt }));
    },
    shownAt: state.shownAt,
  };
}

function LiveControls({ hold, waiting }: { hold: Hold; waiting: number }) {
  return (
    <span className="live-controls">
      <button type="button" aria-pressed={hold.paused} onClick={hold.paused ? hold.resume : hold.pause} title="Hold new requests out of the list while reading">
        {hold.paused ? 'Resume' : 'Pause'}
      </button>
      {hold.held === undefined ? (
        <span className="muted">live</span>
      ) : waiting > 0 ? (
        <button type="button" className="new-requests" data-testid="new-requests" onClick={hold.resume}>
          {waiting} new ↑
        </button>
      ) : (
        <span className="muted">{hold.paused ? 'paused' : 'new requests wait while you read'}</span>
      )}
    </span>
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
        // Not searched (main did not answer): what the list matches by itself is all it shows, not "searching" for good.
        () => !stopped && setFound({ text: wanted, ids: new Set() }),
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

function FilterBar({ rows, total, children }: { rows: readonly RequestSummary[]; total: number; children: React.ReactNode }) {
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
      {children}
      <ExportHar rows={rows} filtered={shown !== total} />
      <ImportHar />
      <ClearButton rows={rows} filtered={shown !== total} />
    </div>
  );
}

/** Downloads what the filter shows (everything when nothing is filtered) as a HAR 1.2 file. */
function ExportHar({ rows, filtered }: { rows: readonly RequestSummary[]; filtered: boolean }) {
  const api = useApi();
  const command = useCommand();
  const exportShown = (): void =>
    void command.run(async () => {
      const har = await api.exportHar(filtered ? { requestIds: rows.map((r) => r.requestId) } : {});
      downloadFile(`burrow-${new Date().toISOString().replace(/[:.]/g, '-')}.har`, JSON.stringify(har, null, 2), 'application/json');
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
      // Said before the file is read and sent: the inspector's connection takes no more.
      if (file.size > maxHarImportBytes) throw new Error(harTooLarge(file.size));
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
function ClearButton({ rows, filtered }: { rows: readonly RequestSummary[]; filtered: boolean }) {
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
