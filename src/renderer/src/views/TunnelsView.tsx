// Tunnels: add, import, edit, remove, toggle; status with the reason for an
// error; the public URL to copy or show as a QR code. With the local test
// server running, one click adds tunnels to its demo backends.
import { useState, type FormEvent } from 'react';
import type { LocalServiceHealth, TunnelProtocol, TunnelView } from '../../../shared/contract';
import { assignedName, tunnelName } from '../../../shared/tunnel-name';
import { useApi, useApp } from '../app-context';
import { formatTime } from '../lib/format';
import { useCommand } from '../lib/use-command';
import { ImportTunnels } from './ImportTunnels';
import { QrCode } from './QrCode';

export function TunnelsView() {
  const tunnels = useApp((s) => s.tunnels);
  const embedded = useApp((s) => s.embedded);
  return (
    <section className="view" aria-labelledby="tunnels-title">
      <h2 id="tunnels-title">Tunnels</h2>
      <AddTunnelForm />
      <ImportTunnels />
      {embedded?.running && embedded.demoTargets && <DemoTunnels demoTargets={embedded.demoTargets} existing={tunnels} />}
      {tunnels.length === 0 ? (
        <p className="empty">No tunnels yet. Add one above, or start the local test server in Settings to try the demo backends.</p>
      ) : (
        <ul className="tunnel-list">
          {tunnels.map((tunnel) => (
            <TunnelRow key={tunnel.id} tunnel={tunnel} />
          ))}
        </ul>
      )}
    </section>
  );
}

function AddTunnelForm() {
  const api = useApi();
  const command = useCommand();
  const [name, setName] = useState('');
  const [protocol, setProtocol] = useState<TunnelProtocol>('http');
  const [target, setTarget] = useState('');
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const created = await command.run(() => api.createTunnel({ name: name.trim(), protocol, target: target.trim() }));
    if (created) {
      setName('');
      setTarget('');
    }
  };
  return (
    <form className="add-tunnel" onSubmit={submit} aria-label="Add tunnel">
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="app (empty: server picks)" />
      </label>
      <label>
        Protocol
        <select value={protocol} onChange={(e) => setProtocol(e.target.value as TunnelProtocol)}>
          <option value="http">HTTP / WebSocket</option>
          <option value="grpc">gRPC</option>
        </select>
      </label>
      <label>
        Local service
        <input value={target} onChange={(e) => setTarget(e.target.value)} placeholder="3000 or 127.0.0.1:3000" required />
      </label>
      <button type="submit" disabled={command.busy}>
        Add tunnel
      </button>
      {command.error && (
        <p role="alert" className="error">
          {command.error}
        </p>
      )}
    </form>
  );
}

function DemoTunnels({ demoTargets, existing }: { demoTargets: { http: string; websocket: string; grpc: string }; existing: readonly TunnelView[] }) {
  const api = useApi();
  const command = useCommand();
  const wanted: { name: string; protocol: TunnelProtocol; target: string }[] = [
    { name: 'demo', protocol: 'http', target: demoTargets.http },
    { name: 'demo-ws', protocol: 'http', target: demoTargets.websocket },
    { name: 'demo-grpc', protocol: 'grpc', target: demoTargets.grpc },
  ];
  const missing = wanted.filter((w) => !existing.some((t) => t.name === w.name));
  if (missing.length === 0) return null;
  return (
    <div className="hint">
      The local test server is running with HTTP, WebSocket and gRPC echo backends.{' '}
      <button type="button" disabled={command.busy} onClick={() => void command.run(async () => Promise.all(missing.map((m) => api.createTunnel(m))))}>
        Add demo tunnels
      </button>
      {command.error && <span role="alert" className="error"> {command.error}</span>}
    </div>
  );
}

/** Registered is not working: what the local service did to the last minute's requests. */
function LocalServiceHealthLine({ health }: { health: LocalServiceHealth }) {
  const parts = [
    health.refusedLastMinute > 0 && `${health.refusedLastMinute} refused`,
    health.timedOutLastMinute > 0 && `${health.timedOutLastMinute} timed out`,
    health.failedLastMinute > 0 && `${health.failedLastMinute} failed`,
  ].filter(Boolean);
  if (parts.length === 0) return null;
  return (
    <p className="warn" role="status" data-testid="local-health">
      Local service failing: {parts.join(', ')} in the last minute. Last: {health.lastError.message} ({formatTime(health.lastError.at)})
    </p>
  );
}

function TunnelRow({ tunnel }: { tunnel: TunnelView }) {
  const api = useApi();
  const command = useCommand();
  const [editing, setEditing] = useState(false);
  // Without a link to burrow, the last status it reported is not known to hold.
  const linked = useApp((s) => s.connection.state === 'open');
  const status = linked ? tunnel.status : 'unknown';
  const assigned = assignedName(tunnel);
  const label = tunnel.name || (assigned ? `${assigned} (named by the server)` : '(name from server)');
  return (
    <li className="tunnel" data-testid="tunnel-row" data-tunnel={tunnelName(tunnel)} data-status={status}>
      <label className="toggle">
        <input
          type="checkbox"
          checked={tunnel.enabled}
          aria-label={`Enable ${label}`}
          disabled={command.busy}
          onChange={(e) => void command.run(() => api.setTunnelEnabled({ id: tunnel.id, enabled: e.target.checked }))}
        />
      </label>
      <div className="tunnel-main">
        <div>
          <strong>{label}</strong> <span className="muted">{tunnel.protocol === 'grpc' ? 'gRPC' : 'HTTP'}</span> → <code>{tunnel.target}</code>{' '}
          <span className={`status status-${status}`} title={linked ? undefined : 'Not connected to burrow'}>
            {status}
          </span>
        </div>
        {tunnel.publicUrl && tunnel.status === 'online' && <PublicUrl url={tunnel.publicUrl} />}
        {tunnel.localService && <LocalServiceHealthLine health={tunnel.localService} />}
        {tunnel.error && (
          <p className="error" role="status">
            {tunnel.error.message} <code>{tunnel.error.code}</code>
          </p>
        )}
        {editing && <EditTunnel tunnel={tunnel} onDone={() => setEditing(false)} />}
        {command.error && (
          <p role="alert" className="error">
            {command.error}
          </p>
        )}
      </div>
      <div className="actions">
        <button type="button" onClick={() => setEditing(!editing)}>
          {editing ? 'Cancel' : 'Edit'}
        </button>
        <button type="button" className="danger" disabled={command.busy} onClick={() => void command.run(() => api.removeTunnel({ id: tunnel.id }))}>
          Remove
        </button>
      </div>
    </li>
  );
}

function PublicUrl({ url }: { url: string }) {
  const [copied, setCopied] = useState<string>();
  const [qr, setQr] = useState(false);
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('Copied');
    } catch {
      setCopied('Copy failed: select the URL instead');
    }
  };
  return (
    <div className="public-url">
      <a href={url} target="_blank" rel="noreferrer">
        {url}
      </a>{' '}
      <button type="button" onClick={() => void copy()}>
        Copy URL
      </button>{' '}
      <button type="button" onClick={() => setQr(true)}>
        QR code
      </button>{' '}
      {copied && <span className="muted">{copied}</span>}
      {qr && <QrCode url={url} close={() => setQr(false)} />}
    </div>
  );
}

function EditTunnel({ tunnel, onDone }: { tunnel: TunnelView; onDone(): void }) {
  const api = useApi();
  const command = useCommand();
  const [name, setName] = useState(tunnel.name);
  const [target, setTarget] = useState(tunnel.target);
  const [protocol, setProtocol] = useState<TunnelProtocol>(tunnel.protocol);
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const updated = await command.run(() => api.updateTunnel({ id: tunnel.id, name: name.trim(), target: target.trim(), protocol }));
    if (updated) onDone();
  };
  return (
    <form className="edit-tunnel" onSubmit={submit} aria-label={`Edit ${tunnel.name}`}>
      <input value={name} onChange={(e) => setName(e.target.value)} aria-label="Name" />
      <select value={protocol} onChange={(e) => setProtocol(e.target.value as TunnelProtocol)} aria-label="Protocol">
        <option value="http">HTTP / WebSocket</option>
        <option value="grpc">gRPC</option>
      </select>
      <input value={target} onChange={(e) => setTarget(e.target.value)} aria-label="Local service" />
      <button type="submit" disabled={command.busy}>
        Save
      </button>
      {command.error && (
        <span role="alert" className="error">
          {command.error}
        </span>
      )}
    </form>
  );
}
