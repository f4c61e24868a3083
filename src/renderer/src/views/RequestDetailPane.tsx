// One request in full: headers both ways, bodies (see BodyViewer),
// WebSocket frames or gRPC messages as a timeline, trailers.
import { useEffect, useState, type FormEvent } from 'react';
import type { ReplayEdit, RequestDetail, RequestSnippet, SnippetTarget } from '../../../shared/contract';
import { grpcMessageIn, type HeaderPair } from '../../../shared/traffic';
import { grpcStatusName } from '../../../shared/grpc-status';
import { useApi, useApp } from '../app-context';
import { CommandError } from '../lib/command-error';
import { useCommand } from '../lib/use-command';
import { asText, decodeBase64, formatBytes, formatTime } from '../lib/format';
import { resendBody, resendBodyNote } from '../store/resend-body';
import { BodyViewer } from './BodyViewer';
import { GrpcMessages } from './GrpcMessages';
import { MessageList } from './MessageList';
import { WebSocketComposer } from './WebSocketComposer';
import { FieldTable } from './FieldTable';
import { protocolLabel, StatusCell } from './request-status';
import { RequestDuration } from './RequestDuration';
import { timingPhases, timingText } from './TimingBar';

export function RequestDetailPane() {
  const detail = useApp((s) => s.detail);
  const selectedId = useApp((s) => s.selectedId);
  const select = useApp((s) => s.select);
  return (
    <aside className="detail" aria-label="Request detail" data-testid="request-detail">
      <div className="detail-head">
        <code className="mono">{selectedId}</code>
        <button type="button" onClick={() => select(undefined)} aria-label="Close detail">
          ✕
        </button>
      </div>
      {detail === undefined && <p className="muted">Loading…</p>}
      {detail === null && <p className="muted">This request is no longer in the log (the oldest are dropped first).</p>}
      {detail && <DetailBody detail={detail} />}
    </aside>
  );
}

function DetailBody({ detail }: { detail: RequestDetail }) {
  return (
    <div className="detail-body">
      <dl className="facts">
        <dt>Tunnel</dt>
        <dd>{detail.tunnel}</dd>
        <dt>Kind</dt>
        <dd>{protocolLabel(detail.protocol)}</dd>
        <dt>Request</dt>
        <dd>
          <code>
            {detail.method} {detail.path}
          </code>
          {detail.httpVersion !== undefined && <span className="muted"> HTTP/{detail.httpVersion}</span>}
        </dd>
        <dt>Status</dt>
        <dd>
          <StatusCell row={detail} />
        </dd>
        <GrpcStatusMessage detail={detail} />
        <dt>Started</dt>
        <dd>{formatTime(detail.startedAt)}</dd>
        <dt>Duration</dt>
        <dd>
          <RequestDuration row={detail} />
        </dd>
        <Timing detail={detail} />
        <dt>Bytes</dt>
        <dd>
          {formatBytes(detail.bytesIn)} in · {formatBytes(detail.bytesOut)} out
        </dd>
      </dl>
      {detail.error && (
        <p className="error" role="status">
          {detail.error.message} <code>{detail.error.code}</code>
        </p>
      )}
      {detail.replayOf && <ReplayOf original={detail.replayOf} />}
      {detail.protocol !== 'websocket' && <Resend detail={detail} />}
      {detail.protocol !== 'websocket' && <CopyAs requestId={detail.requestId} targets={detail.protocol === 'grpc' ? grpcSnippetTargets : httpSnippetTargets} />}
      <Headers title="Request headers" headers={detail.requestHeaders} />
      {detail.protocol === 'http' && <BodyViewer requestId={detail.requestId} side="request" preview={detail.requestBody} state={detail.state} />}
      {detail.requestTrailers.length > 0 && <Headers title="Request trailers" headers={detail.requestTrailers} />}
      <Headers title="Response headers" headers={detail.responseHeaders} />
      {detail.protocol === 'http' && <BodyViewer requestId={detail.requestId} side="response" preview={detail.responseBody} state={detail.state} />}
      {detail.protocol === 'websocket' && (
        // Keyed by request: filters and a message being written belong to one connection.
        <MessageList key={detail.requestId} detail={detail}>
          {detail.state === 'in-flight' && detail.status === 101 && <WebSocketComposer requestId={detail.requestId} />}
        </MessageList>
      )}
      {detail.protocol === 'grpc' && <GrpcMessages key={detail.requestId} detail={detail} />}
      {detail.trailers.length > 0 && <Headers title="Response trailers" headers={detail.trailers} />}
    </div>
  );
}

/** A gRPC call's status message, decoded: from its trailers, or its headers when it had only those. */
function GrpcStatusMessage({ detail }: { detail: RequestDetail }) {
  const message = detail.protocol === 'grpc' ? (grpcMessageIn(detail.trailers) ?? grpcMessageIn(detail.responseHeaders)) : undefined;
  if (message === undefined || message === '') return null;
  return (
    <>
      <dt>Message</dt>
      <dd data-testid="grpc-status-message">{message}</dd>
    </>
  );
}

function Timing({ detail }: { detail: RequestDetail }) {
  const phases = timingPhases(detail);
  if (phases === undefined) return null;
  return (
    <>
      <dt>Timing</dt>
      <dd data-testid="timing-text">{timingText(phases)}</dd>
    </>
  );
}

function ReplayOf({ original }: { original: string }) {
  const select = useApp((s) => s.select);
  return (
    <p className="muted">
      Replay of{' '}
      <button type="button" className="link" onClick={() => select(original)}>
        {original}
      </button>
    </p>
  );
}

/** Replay as it was, or edit and resend: through the tunnel's public URL, as public traffic; the new request opens. */
function Resend({ detail }: { detail: RequestDetail }) {
  const api = useApi();
  const command = useCommand();
  const select = useApp((s) => s.select);
  const [editing, setEditing] = useState(false);
  const [result, setResult] = useState<string | undefined>();
  useEffect(() => {
    setEditing(false);
    setResult(undefined);
  }, [detail.requestId]);
  const send = (edit?: ReplayEdit): void =>
    void command.run(async () => {
      const replay = await api.replayRequest({ requestId: detail.requestId, ...(edit && { edit }) });
      setResult(`Sent again: ${replay.grpcStatus !== undefined ? grpcStatusName(replay.grpcStatus) : replay.status}`);
      if (replay.requestId !== undefined) select(replay.requestId);
    });
  return (
    <section className="resend" aria-label="Send again">
      <button type="button" disabled={command.busy} onClick={() => send()}>
        Replay
      </button>
      {detail.protocol === 'http' && (
        <button type="button" disabled={command.busy} aria-expanded={editing} onClick={() => setEditing((open) => !open)}>
          Edit and resend
        </button>
      )}
      {result && (
        <span className="muted" role="status">
          {result}
        </span>
      )}
      <CommandError error={command.error} />
      {editing && <ResendForm detail={detail} busy={command.busy} send={send} />}
    </section>
  );
}

function ResendForm({ detail, busy, send }: { detail: RequestDetail; busy: boolean; send: (edit: ReplayEdit) => void }) {
  const [method, setMethod] = useState(detail.method);
  const [path, setPath] = useState(detail.path);
  const [headers, setHeaders] = useState(() => detail.requestHeaders.map(([name, value]) => `${name}: ${value}`).join('\n'));
  const [shown] = useState(() => asText(decodeBase64(detail.requestBody.base64), detail.requestBody.contentType));
  const [body, setBody] = useState(shown ?? '');
  const bodyNote = resendBodyNote(detail.requestBody, shown);
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const pairs = headers
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .map((line): HeaderPair => {
        const colon = line.indexOf(':');
        return colon < 0 ? [line, ''] : [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
      });
    send({ method, path, headers: pairs, body: resendBody(shown, body) });
  };
  return (
    <form className="resend-form" aria-label="Edit and resend" onSubmit={submit}>
      <label>
        Method
        <input value={method} onChange={(e) => setMethod(e.target.value)} />
      </label>
      <label>
        Path
        <input value={path} onChange={(e) => setPath(e.target.value)} />
      </label>
      <label>
        Headers (one "name: value" a line)
        <textarea rows={5} value={headers} onChange={(e) => setHeaders(e.target.value)} />
      </label>
      <label>
        Body
        <textarea rows={5} value={body} onChange={(e) => setBody(e.target.value)} />
      </label>
      {bodyNote && <p className="muted">{bodyNote}</p>}
      <button type="submit" disabled={busy}>
        Send
      </button>
    </form>
  );
}

type SnippetChoice = { target: SnippetTarget; label: string };
const httpSnippetTargets: SnippetChoice[] = [
  { target: 'curl', label: 'curl' },
  { target: 'fetch', label: 'fetch' },
  { target: 'httpie', label: 'HTTPie' },
];
const grpcSnippetTargets: SnippetChoice[] = [{ target: 'grpcurl', label: 'grpcurl' }];

/** The request as code that sends it again (made in main by httpsnippet), shown and put on the clipboard. */
function CopyAs({ requestId, targets }: { requestId: string; targets: SnippetChoice[] }) {
  const api = useApi();
  const command = useCommand();
  const [made, setMade] = useState<(RequestSnippet & { label: string; copied: boolean }) | undefined>();
  useEffect(() => setMade(undefined), [requestId]);
  const copy = (target: SnippetTarget, label: string): void =>
    void command.run(async () => {
      const snippet = await api.requestSnippet({ requestId, target });
      // The clipboard may be refused (no focus, no permission): the snippet is shown either way.
      const copied = await navigator.clipboard?.writeText(snippet.snippet).then(
        () => true,
        () => false,
      );
      setMade({ ...snippet, label, copied: copied === true });
    });
  return (
    <section className="copy-as" aria-label="Copy as">
      <span className="muted">Copy as</span>
      {targets.map(({ target, label }) => (
        <button key={target} type="button" disabled={command.busy} onClick={() => copy(target, label)}>
          {label}
        </button>
      ))}
      <CommandError error={command.error} />
      {made && (
        <div className="snippet">
          <p className="muted" role="status">
            {made.copied ? `${made.label} command copied` : `${made.label} command (select to copy)`}
            {made.warning && <span className="warn"> · {made.warning}</span>}
          </p>
          <pre data-testid="snippet">{made.snippet}</pre>
        </div>
      )}
    </section>
  );
}

function Headers({ title, headers }: { title: string; headers: readonly HeaderPair[] }) {
  return (
    <details open>
      <summary>
        {title} <span className="muted">({headers.length})</span>
      </summary>
      {headers.length === 0 ? (
        <p className="muted">none</p>
      ) : (
        <FieldTable fields={headers} label={title} />
      )}
    </details>
  );
}
