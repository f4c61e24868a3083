// A WebSocket connection's frames or a gRPC call's messages, both ways, as
// a timeline: filtered by direction, type and text (searched in the bytes
// main kept of each, beyond the previews), long ones collapsed until
// expanded with those bytes, exported as JSON; gRPC messages decoded when
// main could (see GrpcMessages).
import { useEffect, useMemo, useState } from 'react';
import type { DecodedMessage, MessageData, MessageView, RequestDetail } from '../../../shared/contract';
import { websocketOpcodeName } from '../../../shared/traffic';
import { useApi } from '../app-context';
import { CommandError } from '../lib/command-error';
import { downloadFile } from '../lib/download';
import { asText, decodeBase64, formatBytes, formatTime, hexDump, prettyJson } from '../lib/format';
import { useCommand } from '../lib/use-command';


/** Decoded gRPC messages by direction and index. */
export type DecodedMessages = ReadonlyMap<string, DecodedMessage>;
export const decodedKey = (message: Pick<MessageView, 'direction' | 'index'>): string => `${message.direction}#${message.index}`;

type DirectionFilter = 'all' | MessageView['direction'];
type TypeFilter = 'all' | 'text' | 'binary' | 'control';

/** Past this many characters or lines a message body starts collapsed. */
const collapsedChars = 600;
const collapsedLines = 8;

/** Each frame's type; a continuation fragment has the type of the message it continues (per direction). */
function frameTypes(messages: readonly MessageView[]): TypeFilter[] {
  const continuing: Record<MessageView['direction'], TypeFilter> = { 'to-service': 'binary', 'to-client': 'binary' };
  return messages.map(({ opcode, direction }) => {
    if (opcode === 0) return continuing[direction];
    const type: TypeFilter = opcode === 1 ? 'text' : opcode === 2 ? 'binary' : 'control';
    if (type !== 'control') continuing[direction] = type;
    return type;
  });
}

export function MessageList({ detail, decoded, children }: { detail: RequestDetail; decoded?: DecodedMessages; children?: React.ReactNode }) {
  const grpc = detail.protocol === 'grpc';
  const [direction, setDirection] = useState<DirectionFilter>('all');
  const [type, setType] = useState<TypeFilter>('all');
  const [text, setText] = useState('');
  const keptMatches = useKeptMatches(detail.requestId, text, detail.messages.length);
  const shown = useMemo(() => {
    const needle = text.trim().toLowerCase();
    const types = frameTypes(detail.messages);
    return detail.messages.filter((message, i) => {
      if (direction !== 'all' && message.direction !== direction) return false;
      if (type !== 'all' && types[i] !== type) return false;
      const key = decodedKey(message);
      return needle === '' || keptMatches?.has(key) === true || searchableText(message, decoded?.get(key)).includes(needle);
    });
  }, [detail.messages, decoded, direction, type, text, keptMatches]);
  const filtered = direction !== 'all' || type !== 'all' || text.trim() !== '';
  return (
    <details open>
      <summary>
        {grpc ? 'gRPC messages' : 'WebSocket frames'} <span className="muted">({detail.messageCount})</span>
      </summary>
      {children}
      <div className="message-filters" role="group" aria-label={grpc ? 'Filter messages' : 'Filter frames'}>
        <select aria-label="Direction" value={direction} onChange={(e) => setDirection(e.target.value as DirectionFilter)}>
          <option value="all">Both ways</option>
          <option value="to-service">client → service</option>
          <option value="to-client">service → client</option>
        </select>
        {!grpc && (
          <select aria-label="Frame type" value={type} onChange={(e) => setType(e.target.value as TypeFilter)}>
            <option value="all">All types</option>
            <option value="text">Text</option>
            <option value="binary">Binary</option>
            <option value="control">Close, ping, pong</option>
          </select>
        )}
        <input type="search" aria-label={grpc ? 'Messages containing' : 'Frames containing'} placeholder="Containing…" value={text} onChange={(e) => setText(e.target.value)} />
        {filtered && (
          <span className="muted" data-testid="messages-shown">
            {shown.length} of {detail.messages.length}
          </span>
        )}
        <ExportMessages requestId={detail.requestId} grpc={grpc} disabled={detail.messages.length === 0} />
      </div>
      {detail.messagesTruncated && <p className="muted">Older messages were dropped; the latest are shown.</p>}
      {detail.messages.length === 0 ? (
        <p className="muted">none yet</p>
      ) : shown.length === 0 ? (
        <p className="muted">No {grpc ? 'messages' : 'frames'} match</p>
      ) : (
        <ol className="messages" data-testid="message-list">
          {shown.map((message) => (
            <MessageItem
              key={`${decodedKey(message)}@${message.at}`}
              requestId={detail.requestId}
              message={message}
              grpc={grpc}
              decoded={decoded?.get(decodedKey(message))}
            />
          ))}
        </ol>
      )}
    </details>
  );
}

/** Keys of the messages whose kept bytes (up to 16 KiB each, in main) contain the text; asked again as messages arrive. */
function useKeptMatches(requestId: string, text: string, messageCount: number): ReadonlySet<string> | undefined {
  const api = useApi();
  const [matches, setMatches] = useState<{ text: string; keys: ReadonlySet<string> }>();
  useEffect(() => {
    if (text.trim() === '') return undefined;
    let current = true;
    // Typing asks once it pauses.
    const timer = setTimeout(() => {
      api.searchMessages({ requestId, text }).then(
        ({ matches: found }) => current && setMatches({ text, keys: new Set(found.map(decodedKey)) }),
        // The previews still filter: a request gone from the log just finds nothing more.
        () => undefined,
      );
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, requestId, text, messageCount]);
  return matches?.text === text ? matches.keys : undefined;
}

/** What the text filter looks in here: the decoded JSON, else the preview as text, with the close reason. */
function searchableText(message: MessageView, decoded: DecodedMessage | undefined): string {
  const body = decoded?.json ?? decoded?.raw ?? asText(decodeBase64(message.previewBase64)) ?? '';
  return `${body} ${message.closeReason ?? ''}`.toLowerCase();
}

function ExportMessages({ requestId, grpc, disabled }: { requestId: string; grpc: boolean; disabled: boolean }) {
  const api = useApi();
  const command = useCommand();
  const save = (): void =>
    void command.run(async () => {
      const { fileName, text } = await api.exportMessages({ requestId });
      downloadFile(fileName, text, 'application/json');
    });
  return (
    <>
      <button type="button" disabled={disabled || command.busy} onClick={save} title="Save every kept message, as JSON">
        {grpc ? 'Export messages' : 'Export frames'}
      </button>
      <CommandError error={command.error} />
    </>
  );
}

function MessageItem({ requestId, message, grpc, decoded }: { requestId: string; message: MessageView; grpc: boolean; decoded: DecodedMessage | undefined }) {
  const arrow = message.direction === 'to-service' ? 'client → service' : 'service → client';
  const kind = grpc ? `message #${message.index}` : websocketOpcodeName(message.opcode);
  return (
    <li className={`message ${message.direction}`} data-testid="message" data-direction={message.direction}>
      <div className="message-head">
        <span className="arrow">{arrow}</span> <span>{kind}</span> <span className="muted">{formatBytes(message.size)}</span>{' '}
        <span className="muted">{formatTime(message.at)}</span>
        {message.injected && (
          <span className="injected" title="Sent from the inspector, not by either end">
            {' '}
            sent from the inspector
          </span>
        )}
        {message.closeCode !== undefined && (
          <span>
            {' '}
            code {message.closeCode} {message.closeReason}
          </span>
        )}
      </div>
      {decoded !== undefined && (decoded.json !== undefined || decoded.raw !== undefined) ? (
        <Collapsible text={decoded.json ?? decoded.raw!} className={decoded.json !== undefined ? 'body-json' : ''} testId={decoded.json !== undefined ? 'decoded-json' : 'decoded-raw'} />
      ) : (
        <MessageBody requestId={requestId} message={message} />
      )}
      {decoded?.error !== undefined && (
        <p className="warn" data-testid="decode-error">
          {decoded.error}
        </p>
      )}
    </li>
  );
}

/** The preview, and on Expand the bytes main kept of the message (more than the preview when it is long). */
function MessageBody({ requestId, message }: { requestId: string; message: MessageView }) {
  const api = useApi();
  const command = useCommand();
  const [kept, setKept] = useState<MessageData | undefined>();
  if (message.previewBase64 === '') return null;
  const preview = decodeBase64(message.previewBase64);
  const bytes = kept === undefined ? preview : decodeBase64(kept.base64);
  const cut = bytes.length < message.size;
  const more = preview.length < message.size && kept === undefined;
  const fetchKept = (): Promise<unknown> => command.run(async () => setKept(await api.getMessageData({ requestId, direction: message.direction, index: message.index })));
  return (
    <>
      <Collapsible text={rendered(bytes)} cut={cut} onExpand={more ? fetchKept : undefined} />
      {kept !== undefined && cut && (
        <p className="muted" data-testid="message-kept">
          The first {formatBytes(bytes.length)} of {formatBytes(message.size)} were kept.
        </p>
      )}
      <CommandError error={command.error} />
    </>
  );
}

function rendered(bytes: Uint8Array): string {
  const text = asText(bytes);
  return text === undefined ? hexDump(bytes, bytes.length) : prettyJson(text).text;
}

/** A message body, collapsed when long, with Expand and Collapse. */
function Collapsible({ text, className = '', testId, cut = false, onExpand }: { text: string; className?: string; testId?: string; cut?: boolean; onExpand?: () => Promise<unknown> }) {
  const long = text.length > collapsedChars || text.split('\n', collapsedLines + 1).length > collapsedLines || onExpand !== undefined;
  const [expanded, setExpanded] = useState(false);
  const collapsed = long && !expanded;
  const expand = (): void => {
    setExpanded(true);
    void onExpand?.();
  };
  return (
    <>
      <pre className={`message-body ${className} ${collapsed ? 'collapsed' : ''}`} data-testid={testId}>
        {text}
        {cut && '\n…'}
      </pre>
      {long && (
        <button type="button" className="link-button" data-testid="message-expand" aria-expanded={expanded} onClick={expanded ? () => setExpanded(false) : expand}>
          {expanded ? 'Collapse' : 'Expand'}
        </button>
      )}
    </>
  );
}
