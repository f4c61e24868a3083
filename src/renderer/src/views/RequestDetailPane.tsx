// One request in full: headers both ways, bodies (JSON pretty-printed,
// binary as hex), WebSocket frames or gRPC messages as a timeline, trailers.
import type { BodyPreview, MessageView, RequestDetail } from '../../../shared/contract';
import type { HeaderPair } from '../../../shared/traffic';
import { useApp } from '../app-context';
import { asText, decodeBase64, formatBytes, formatDuration, formatTime, hexDump, prettyJson, renderBody } from '../lib/format';
import { protocolLabel, StatusCell } from './InspectorView';

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
        </dd>
        <dt>Status</dt>
        <dd>
          <StatusCell row={detail} />
        </dd>
        <dt>Started</dt>
        <dd>{formatTime(detail.startedAt)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(detail.durationMs)}</dd>
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
      <Headers title="Request headers" headers={detail.requestHeaders} />
      {detail.protocol === 'http' && <Body title="Request body" body={detail.requestBody} />}
      <Headers title="Response headers" headers={detail.responseHeaders} />
      {detail.protocol === 'http' && <Body title="Response body" body={detail.responseBody} />}
      {detail.protocol !== 'http' && <Messages detail={detail} />}
      {detail.trailers.length > 0 && <Headers title="Trailers" headers={detail.trailers} />}
    </div>
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
        <table className="headers">
          <tbody>
            {headers.map(([name, value], i) => (
              <tr key={i}>
                <th scope="row">{name}</th>
                <td>{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}

function Body({ title, body }: { title: string; body: BodyPreview }) {
  const rendered = renderBody(body);
  return (
    <details open>
      <summary>
        {title}{' '}
        <span className="muted">
          ({formatBytes(body.totalBytes)}
          {body.contentType && `, ${body.contentType}`}
          {rendered.kind === 'json' && ', JSON'}
          {body.truncated && !body.released && ', first part only'})
        </span>
      </summary>
      {body.released ? (
        <p className="muted" data-testid="body-released">
          not kept: the inspector keeps bodies for its latest requests only
        </p>
      ) : rendered.kind === 'empty' ? (
        <p className="muted">empty</p>
      ) : (
        <pre className={`body body-${rendered.kind}`}>{rendered.text}</pre>
      )}
    </details>
  );
}

const opcodeNames: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

function Messages({ detail }: { detail: RequestDetail }) {
  const grpc = detail.protocol === 'grpc';
  return (
    <details open>
      <summary>
        {grpc ? 'gRPC messages' : 'WebSocket frames'} <span className="muted">({detail.messageCount})</span>
      </summary>
      {detail.messagesTruncated && <p className="muted">Older messages were dropped; the latest are shown.</p>}
      {detail.messages.length === 0 ? (
        <p className="muted">none yet</p>
      ) : (
        <ol className="messages" data-testid="message-list">
          {detail.messages.map((message, i) => (
            <MessageItem key={i} message={message} grpc={grpc} />
          ))}
        </ol>
      )}
    </details>
  );
}

function MessageItem({ message, grpc }: { message: MessageView; grpc: boolean }) {
  const arrow = message.direction === 'to-service' ? 'client → service' : 'service → client';
  const kind = grpc ? `message #${message.index}` : (opcodeNames[message.opcode] ?? `opcode ${message.opcode}`);
  return (
    <li className={`message ${message.direction}`} data-testid="message" data-direction={message.direction}>
      <div className="message-head">
        <span className="arrow">{arrow}</span> <span>{kind}</span> <span className="muted">{formatBytes(message.size)}</span>{' '}
        <span className="muted">{formatTime(message.at)}</span>
        {message.closeCode !== undefined && (
          <span>
            {' '}
            code {message.closeCode} {message.closeReason}
          </span>
        )}
      </div>
      <MessagePreview base64={message.previewBase64} size={message.size} />
    </li>
  );
}

function MessagePreview({ base64, size }: { base64: string; size: number }) {
  if (base64 === '') return null;
  const bytes = decodeBase64(base64);
  const text = asText(bytes);
  const shown = text === undefined ? hexDump(bytes, 256) : prettyJson(text).text;
  return (
    <pre className="message-body">
      {shown}
      {bytes.length < size && '\n…'}
    </pre>
  );
}
