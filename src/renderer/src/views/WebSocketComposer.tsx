// Sends a message from the inspector into an open WebSocket: to the local
// service, or to the public client as if the service had sent it. Text as
// typed, or binary given as base64.
import { useState } from 'react';
import type { WebSocketSendTarget } from '../../../shared/contract';
import { useApi } from '../app-context';
import { CommandError } from '../lib/command-error';
import { formatBytes } from '../lib/format';
import { useCommand } from '../lib/use-command';

/** Commands cross the web inspector's socket, whose messages are capped at 1 MiB (JSON-escaped): a larger message needs a real client. */
const maxComposedBytes = 512 * 1024;
const utf8 = new TextEncoder();

export function WebSocketComposer({ requestId }: { requestId: string }) {
  const api = useApi();
  const command = useCommand();
  const [text, setText] = useState('');
  const [binary, setBinary] = useState(false);
  const [sent, setSent] = useState<string | undefined>();
  const tooLong = text.length > maxComposedBytes / 3 && utf8.encode(text).length > maxComposedBytes;
  const send = (to: WebSocketSendTarget): void => {
    setSent(undefined);
    void command.run(async () => {
      const { bytes } = await api.sendWebSocketMessage({ requestId, to, ...(binary ? { base64: text.replace(/\s+/g, '') } : { text }) });
      setSent(`Sent ${formatBytes(bytes)} to the ${to === 'service' ? 'local service' : 'client'}`);
    });
  };
  return (
    <form className="ws-composer" aria-label="Send a message" onSubmit={(e) => e.preventDefault()}>
      <span className="ws-composer-title">Send a message into the connection</span>
      <textarea
        aria-label="Message to send"
        placeholder={binary ? 'Binary message, as base64' : 'Text message'}
        rows={3}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setSent(undefined);
        }}
      />
      <div className="ws-composer-actions">
        <label>
          <input type="checkbox" checked={binary} onChange={(e) => setBinary(e.target.checked)} /> binary (base64)
        </label>
        <button type="button" disabled={command.busy || tooLong} onClick={() => send('service')} title="Into the connection, as if the client sent it">
          Send to service
        </button>
        <button type="button" disabled={command.busy || tooLong} onClick={() => send('client')} title="Into the connection, as if the local service sent it">
          Send to client
        </button>
        {tooLong && <span className="warn">Over {formatBytes(maxComposedBytes)}: send large messages with a client.</span>}
        {sent && (
          <span className="muted" role="status" data-testid="ws-sent">
            {sent}
          </span>
        )}
      </div>
      <CommandError error={command.error} />
    </form>
  );
}
