// Settings: where the tunnel server is and how to reach it, plus the local
// test server (an embedded tunnel server with demo backends).
import { useEffect, useState, type FormEvent } from 'react';
import type { Settings } from '../../../shared/contract';
import { useApi, useApp } from '../app-context';
import { useCommand } from '../lib/use-command';

export function SettingsView() {
  return (
    <section className="view settings" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <ServerSettings />
      <DesktopSettings />
      <EmbeddedServerPanel />
    </section>
  );
}

function ServerSettings() {
  const api = useApi();
  const settings = useApp((s) => s.settings);
  const setSettings = useApp((s) => s.setSettings);
  const command = useCommand();
  const [draft, setDraft] = useState<Settings | undefined>(settings);
  const [saved, setSaved] = useState(false);
  const [dirty, setDirty] = useState(false);
  // Follow changes made elsewhere (the tray, the local test server) until the user edits.
  useEffect(() => {
    if (!dirty) setDraft(settings);
  }, [settings, dirty]);
  if (draft === undefined) return <p className="muted">Loading settings…</p>;
  const edit = (patch: Partial<Settings>): void => {
    setSaved(false);
    setDirty(true);
    setDraft({ ...draft, ...patch });
  };
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const { serverAddress, token, tls, caFile } = draft;
    const next = await command.run(() => api.updateSettings({ serverAddress: serverAddress.trim(), token, tls, caFile: caFile.trim() }));
    if (next) {
      setSettings(next);
      setDraft(next);
      setDirty(false);
      setSaved(true);
    }
  };
  return (
    <form className="settings-form" onSubmit={submit} aria-label="Tunnel server">
      <h3>Tunnel server</h3>
      <label>
        Server address
        <input value={draft.serverAddress} onChange={(e) => edit({ serverAddress: e.target.value })} placeholder="tunnel.example.com:7835" disabled={draft.embeddedServer} />
      </label>
      {draft.embeddedServer && <p className="muted">The local test server is on; the agent uses it instead.</p>}
      <label>
        Token
        <input type="password" value={draft.token} onChange={(e) => edit({ token: e.target.value })} autoComplete="off" />
      </label>
      <label>
        Connection
        <select value={draft.tls} onChange={(e) => edit({ tls: e.target.value as Settings['tls'] })}>
          <option value="off">Cleartext (loopback or a trusted network)</option>
          <option value="verify">TLS, verify the certificate</option>
          <option value="insecure">TLS, do not verify (testing only)</option>
        </select>
      </label>
      {draft.tls === 'verify' && (
        <label>
          CA certificate file
          <input value={draft.caFile} onChange={(e) => edit({ caFile: e.target.value })} placeholder="empty: the system's roots" />
        </label>
      )}
      <div className="form-actions">
        <button type="submit" disabled={command.busy}>
          Save
        </button>
        {saved && <span className="muted">Saved; the agent reconnects with these settings.</span>}
        {command.error && (
          <span role="alert" className="error">
            {command.error}
          </span>
        )}
      </div>
    </form>
  );
}

/** Switches that apply at once: notifications, and how the desktop app starts. */
function DesktopSettings() {
  const api = useApi();
  const settings = useApp((s) => s.settings);
  const setSettings = useApp((s) => s.setSettings);
  const command = useCommand();
  if (settings === undefined) return null;
  const flip = async (patch: Partial<Pick<Settings, 'notifications' | 'startAtLogin' | 'startHidden'>>): Promise<void> => {
    // Shown switched at once; put back if the change is refused.
    setSettings({ ...settings, ...patch });
    const next = await command.run(() => api.updateSettings(patch));
    setSettings(next ?? settings);
  };
  return (
    <fieldset className="settings-form" aria-label="Desktop app">
      <h3>Desktop app</h3>
      <label className="check">
        <input type="checkbox" checked={settings.notifications} onChange={(e) => void flip({ notifications: e.target.checked })} />
        Notify when a tunnel goes offline or back, or its local service keeps failing
      </label>
      <label className="check">
        <input type="checkbox" checked={settings.startAtLogin} onChange={(e) => void flip({ startAtLogin: e.target.checked })} />
        Start when I log in
      </label>
      <label className="check">
        <input type="checkbox" checked={settings.startHidden} onChange={(e) => void flip({ startHidden: e.target.checked })} />
        Start in the tray, without opening the window
      </label>
      <p className="muted">These apply to the desktop app; the web inspector of the burrow command keeps them for it.</p>
      {command.error && (
        <span role="alert" className="error">
          {command.error}
        </span>
      )}
    </fieldset>
  );
}

function EmbeddedServerPanel() {
  const api = useApi();
  const embedded = useApp((s) => s.embedded);
  const setEmbedded = useApp((s) => s.setEmbedded);
  const setSettings = useApp((s) => s.setSettings);
  const command = useCommand();
  const toggle = async (): Promise<void> => {
    const next = await command.run(() => (embedded?.running ? api.stopEmbeddedServer(undefined) : api.startEmbeddedServer(undefined)));
    if (next) setEmbedded(next);
    // The agent now points elsewhere; the form shows it.
    const settings = await command.run(() => api.getSettings(undefined));
    if (settings) setSettings(settings);
  };
  return (
    <div className="embedded" aria-label="Local test server">
      <h3>Local test server</h3>
      <p className="muted">A tunnel server on this machine plus HTTP, WebSocket and gRPC echo backends: see traffic in a minute, no account or remote server needed.</p>
      <p>
        Status: <strong data-testid="embedded-status">{embedded?.running ? 'running' : 'stopped'}</strong>
        {embedded?.publicBaseUrl && (
          <>
            {' '}
            at <code>{embedded.publicBaseUrl}</code>
          </>
        )}
      </p>
      {embedded?.error && (
        <p role="alert" className="error">
          {embedded.error}
        </p>
      )}
      {embedded?.demoTargets && (
        <ul className="muted">
          <li>HTTP echo: {embedded.demoTargets.http}</li>
          <li>WebSocket echo: {embedded.demoTargets.websocket}</li>
          <li>gRPC echo (burrow.demo.Echo): {embedded.demoTargets.grpc}</li>
        </ul>
      )}
      <button type="button" disabled={command.busy} onClick={() => void toggle()}>
        {embedded?.running ? 'Stop local test server' : 'Start local test server'}
      </button>
      {command.error && (
        <span role="alert" className="error">
          {command.error}
        </span>
      )}
    </div>
  );
}
