// A WebSocket connection's frames or a gRPC call's messages, both ways, as
// a timeline; gRPC messages decoded when main could (see GrpcMessages).
import type { DecodedMessage, MessageView, RequestDetail } from '../../../shared/contract';
import { asText, decodeBase64, formatBytes, formatTime, hexDump, prettyJson } from '../lib/format';

const opcodeNames: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

/** Decoded gRPC messages by direction and index. */
export type DecodedMessages = ReadonlyMap<string, DecodedMessage>;
export const decodedKey = (message: Pick<MessageView, 'direction' | 'index'>): string => `${message.direction}#${message.index}`;

export function MessageList({ detail, decoded, children }: { detail: RequestDetail; decoded?: DecodedMessages; children?: React.ReactNode }) {
  const grpc = detail.protocol === 'grpc';
  return (
    <details open>
      <summary>
        {grpc ? 'gRPC messages' : 'WebSocket frames'} <span className="muted">({detail.messageCount})</span>
      </summary>
      {children}
      {detail.messagesTruncated && <p className="muted">Older messages were dropped; the latest are shown.</p>}
      {detail.messages.length === 0 ? (
        <p className="muted">none yet</p>
      ) : (
        <ol className="messages" data-testid="message-list">
          {detail.messages.map((message, i) => (
            <MessageItem key={i} message={message} grpc={grpc} decoded={decoded?.get(decodedKey(message))} />
          ))}
        </ol>
      )}
    </details>
  );
}

function MessageItem({ message, grpc, decoded }: { message: MessageView; grpc: boolean; decoded: DecodedMessage | undefined }) {
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
      {decoded !== undefined && (decoded.json !== undefined || decoded.raw !== undefined) ? <Decoded decoded={decoded} /> : <MessagePreview base64={message.previewBase64} size={message.size} />}
      {decoded?.error !== undefined && (
        <p className="warn" data-testid="decode-error">
          {decoded.error}
        </p>
      )}
    </li>
  );
}

function Decoded({ decoded }: { decoded: DecodedMessage }) {
  if (decoded.json !== undefined) {
    return (
      <pre className="message-body body-json" data-testid="decoded-json">
        {decoded.json}
      </pre>
    );
  }
  return (
    <pre className="message-body" data-testid="decoded-raw" title="Fields by number: no schema to name them">
      {decoded.raw}
    </pre>
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
