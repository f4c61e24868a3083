// The window: a header with the agent's state, five views, and the traffic
// store fed by whichever transport provides the contract.
import { useMemo, useRef, useState } from 'react';
import { useApp } from './app-context';
import { shortcuts, useShortcuts } from './lib/shortcuts';
import type { ViewName } from './store/app-store';
import { ConnectionView } from './views/ConnectionView';
import { InspectorView } from './views/InspectorView';
import { SettingsView } from './views/SettingsView';
import { ThroughputView } from './views/ThroughputView';
import { TunnelsView } from './views/TunnelsView';

const views: { name: ViewName; label: string }[] = [
  { name: 'tunnels', label: 'Tunnels' },
  { name: 'inspector', label: 'Inspector' },
  { name: 'throughput', label: 'Throughput' },
  { name: 'connection', label: 'Connection' },
  { name: 'settings', label: 'Settings' },
];

export function App() {
  const view = useApp((s) => s.view);
  const setView = useApp((s) => s.setView);
  const select = useApp((s) => s.select);
  const [help, setHelp] = useState(false);
  const helpShown = useRef(help);
  helpShown.current = help;
  const handlers = useMemo(
    () => ({
      view: setView,
      toggleHelp: () => setHelp((shown) => !shown),
      // Esc closes the help if it shows, else the open request.
      closeHelp: () => (helpShown.current ? setHelp(false) : select(undefined)),
      // The Inspector's search field, opening the Inspector if another view shows.
      search: () => {
        const field = (): HTMLInputElement | null => document.querySelector<HTMLInputElement>('input[aria-label="Filter text"]');
        // Focused within the key's own event when the Inspector shows, so the "/" itself is not typed into it.
        if (field() !== null) return field()!.focus();
        setView('inspector');
        requestAnimationFrame(() => field()?.focus());
      },
    }),
    [setView, select],
  );
  useShortcuts(handlers);
  return (
    <div className="app">
      <header className="app-header">
        <h1>Burrow</h1>
        <nav aria-label="Views">
          {views.map((v) => (
            <button key={v.name} type="button" className={v.name === view ? 'tab active' : 'tab'} aria-current={v.name === view ? 'page' : undefined} onClick={() => setView(v.name)}>
              {v.label}
            </button>
          ))}
        </nav>
        <AgentBadge />
        <button type="button" className="help-button" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)" onClick={() => setHelp(true)}>
          ?
        </button>
      </header>
      {help && <HelpOverlay close={() => setHelp(false)} />}
      <LinkBanner />
      <main>
        {view === 'tunnels' && <TunnelsView />}
        {view === 'inspector' && <InspectorView />}
        {view === 'throughput' && <ThroughputView />}
        {view === 'connection' && <ConnectionView />}
        {view === 'settings' && <SettingsView />}
      </main>
    </div>
  );
}

function HelpOverlay({ close }: { close: () => void }) {
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-labelledby="help-title" onClick={close}>
      <div className="overlay-box" onClick={(event) => event.stopPropagation()}>
        <h2 id="help-title">Keyboard shortcuts</h2>
        <dl className="shortcuts">
          {shortcuts.map((shortcut) => (
            <div key={shortcut.keys}>
              <dt>
                <kbd>{shortcut.keys}</kbd>
              </dt>
              <dd>{shortcut.does}</dd>
            </div>
          ))}
        </dl>
        <button type="button" onClick={close} autoFocus>
          Close
        </button>
      </div>
    </div>
  );
}

const agentLabels: Record<string, string> = { idle: 'idle', connecting: 'connecting', ready: 'connected', backoff: 'reconnecting', closed: 'stopped' };

/** How the UI's own link to burrow stands, when it is not simply up. */
function LinkBanner() {
  const connection = useApp((s) => s.connection);
  if (connection.state === 'open') return null;
  if (connection.state === 'connecting' && connection.error === undefined) {
    return (
      <p role="status" className="banner muted" data-testid="link-banner">
        Connecting to burrow…
      </p>
    );
  }
  return (
    <p role="alert" className={connection.state === 'failed' ? 'error banner' : 'warn banner'} data-testid="link-banner">
      {connection.error}
    </p>
  );
}

function AgentBadge() {
  const agent = useApp((s) => s.agent);
  const linkState = useApp((s) => s.connection.state);
  // What burrow last said is stale once the link to it is gone.
  if (linkState !== 'open' && agent !== undefined) {
    return (
      <span className="agent-badge agent-closed" title="The UI is not connected to burrow" data-testid="agent-status">
        {linkState === 'failed' ? 'not connected' : 'disconnected'} · {agent.server}
      </span>
    );
  }
  if (agent === undefined) return <span className="agent-badge">…</span>;
  return (
    <span className={`agent-badge agent-${agent.state}`} title={agent.detail} data-testid="agent-status">
      {agentLabels[agent.state] ?? agent.state} · {agent.server}
    </span>
  );
}
