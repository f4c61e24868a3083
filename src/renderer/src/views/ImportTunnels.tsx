// Import the HTTP tunnels of an ngrok or frpc configuration file: they are
// added switched off, and the report says what could not be carried over.
import { useState, type ChangeEvent } from 'react';
import type { ImportReport } from '../../../shared/contract';
import { useApi } from '../app-context';
import { useCommand } from '../lib/use-command';

export function ImportTunnels() {
  const api = useApi();
  const command = useCommand();
  const [report, setReport] = useState<ImportReport>();
  const choose = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (file === undefined) return;
    const text = await file.text();
    setReport(await command.run(() => api.importTunnels({ fileName: file.name, text })));
  };
  return (
    <details className="import-tunnels">
      <summary>Import from ngrok or frp…</summary>
      <label>
        Configuration file (ngrok.yml, frpc.toml or frpc.ini)
        <input type="file" accept=".yml,.yaml,.toml,.ini" onChange={(e) => void choose(e)} disabled={command.busy} />
      </label>
      {command.error && (
        <p role="alert" className="error">
          {command.error}
        </p>
      )}
      {report !== undefined && (
        <div role="status" data-testid="import-report">
          <p>
            Read as {report.kind === 'ngrok' ? 'an ngrok configuration' : 'an frpc configuration'}: {report.created.length} tunnel{report.created.length === 1 ? '' : 's'} added, switched off
            {report.created.length > 0 && ` (${report.created.map((t) => t.name || t.target).join(', ')})`}.
          </p>
          {report.notMapped.length > 0 && (
            <>
              <p>Not carried over:</p>
              <ul className="not-mapped">
                {report.notMapped.map((item) => (
                  <li key={`${item.what}: ${item.why}`}>
                    <strong>{item.what}</strong>: {item.why}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </details>
  );
}
