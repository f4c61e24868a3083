// The window: a header with the agent's state, four views, and the traffic
// store fed by whichever transport provides the contract.
import { useApp } from './app-context';
import type { ViewName } from './store/app-store';
import { InspectorView } from './views/InspectorView';
import { SettingsView } from './views/SettingsView';
import { ThroughputView } from './views/ThroughputView';
import { TunnelsView } from './views/TunnelsView';

const views: { name: ViewName; label: string }[] = [
  { name: 'tunnels', label: 'Tunnels' },
  { name: 'inspector', label: 'Inspector' },
  { name: 'throughput', label: 'Throughput' },
  { name: 'settings', label: 'Settings' },
];

export function App() {
  const view = useApp((s) => s.view);
  const setView = useApp((s) => s.setView);
  const connection = useApp((s) => s.connection);
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
      </header>
      {connection.state === 'failed' && (
        <p role="alert" className="error banner">
          {connection.error}
        </p>
      )}
      <main>
        {view === 'tunnels' && <TunnelsView />}
        {view === 'inspector' && <InspectorView />}
        {view === 'throughput' && <ThroughputView />}
        {view === 'settings' && <SettingsView />}
      </main>
    </div>
  );
}

const agentLabels: Record<string, string> = { idle: 'idle', connecting: 'connecting', ready: 'connected', backoff: 'reconnecting', closed: 'stopped' };

function AgentBadge() {
  const agent = useApp((s) => s.agent);
  if (agent === undefined) return <span className="agent-badge">…</span>;
  return (
    <span className={`agent-badge agent-${agent.state}`} title={agent.detail} data-testid="agent-status">
      {agentLabels[agent.state] ?? agent.state} · {agent.server}
    </span>
  );
}
