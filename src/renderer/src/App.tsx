// A minimal window: tunnels and their status, from whichever transport
// provides window.burrow (Electron's preload or the web inspector).
import { useEffect, useState } from 'react';
import type { TunnelView } from '../../shared/contract';
import { connectApi } from './api';

export function App() {
  const [tunnels, setTunnels] = useState<TunnelView[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let unsubscribe = (): void => {};
    connectApi()
      .then((api) => {
        unsubscribe = api.on('tunnels', setTunnels);
        return api.listTunnels(undefined).then(setTunnels);
      })
      .catch((e: Error) => setError(e.message));
    return () => unsubscribe();
  }, []);
  return (
    <main>
      <h1>Burrow</h1>
      {error && <p role="alert">{error}</p>}
      {tunnels.length === 0 ? (
        <p>No tunnels yet.</p>
      ) : (
        <ul>
          {tunnels.map((t) => (
            <li key={t.id}>
              <strong>{t.name || '(auto)'}</strong> {t.protocol} → {t.target}: {t.status}
              {t.publicUrl && <> — {t.publicUrl}</>}
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
