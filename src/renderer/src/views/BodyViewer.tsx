// A request's or response's kept body, whole: as text or JSON, as hex, as
// an image, as form fields or multipart parts; decoded from gzip, deflate or
// br by main (getBody); downloaded or copied as the user likes.
import { useEffect, useMemo, useState } from 'react';
import type { BodyContent, BodyPart, BodyPreview, RequestState } from '../../../shared/contract';
import { useApi } from '../app-context';
import { asText, decodeBase64, formatBytes, hexDump, renderBytes } from '../lib/format';
import { downloadFile } from '../lib/download';
import { FieldTable } from './FieldTable';

type Side = 'request' | 'response';
type Mode = 'pretty' | 'hex' | 'image' | 'form' | 'parts';

/** A hex dump of more than this would be tens of thousands of lines: the rest is for Download. */
const hexShownBytes = 64 * 1024;

const modeLabels: Record<Mode, string> = { pretty: 'Text', hex: 'Hex', image: 'Image', form: 'Form', parts: 'Parts' };

export function BodyViewer({ requestId, side, preview, state }: { requestId: string; side: Side; preview: BodyPreview; state: RequestState }) {
  const content = useBodyContent(requestId, side, preview, state);
  const shown: BodyContent = content ?? { ...preview, keptBytes: decodeBase64(preview.base64).length };
  const bytes = useMemo(() => decodeBase64(shown.base64), [shown.base64]);
  const modes = modesFor(shown);
  const [chosen, setChosen] = useState<Mode | undefined>();
  useEffect(() => setChosen(undefined), [requestId]);
  const mode = chosen !== undefined && modes.includes(chosen) ? chosen : modes[0]!;
  const title = side === 'request' ? 'Request body' : 'Response body';
  return (
    <details open data-testid={`${side}-body`}>
      <summary>
        {title}{' '}
        <span className="muted">
          ({formatBytes(shown.totalBytes)}
          {shown.contentType && `, ${shown.contentType}`}
          {shown.truncated && !shown.released && `, first ${formatBytes(shown.keptBytes)} kept`})
        </span>
      </summary>
      {shown.released ? (
        <p className="muted" data-testid="body-released">
          not kept: the inspector keeps bodies for its latest requests only
        </p>
      ) : shown.totalBytes === 0 ? (
        <p className="muted">empty</p>
      ) : (
        <>
          <div className="body-tools">
            <div role="radiogroup" aria-label={`${title} as`} className="segmented">
              {modes.map((m) => (
                <button key={m} type="button" role="radio" aria-checked={m === mode} onClick={() => setChosen(m)}>
                  {modeLabels[m]}
                </button>
              ))}
            </div>
            <BodyActions bytes={bytes} content={shown} name={`${requestId}-${side}`} />
          </div>
          <Encoding content={shown} />
          <BodyAs mode={mode} bytes={bytes} content={shown} />
        </>
      )}
    </details>
  );
}

/** Main's decoded and parsed view of the body, asked for again as the body grows and when it ends. */
function useBodyContent(requestId: string, side: Side, preview: BodyPreview, state: RequestState): BodyContent | undefined {
  const api = useApi();
  const [content, setContent] = useState<{ key: string; value: BodyContent } | undefined>();
  const key = `${requestId}/${side}/${preview.totalBytes}/${state}/${preview.released === true}`;
  useEffect(() => {
    if (preview.totalBytes === 0 || preview.released) return;
    let current = true;
    api.getBody({ requestId, side }).then(
      (value) => current && setContent({ key, value }),
      // Gone from the log meanwhile: the preview stays on screen.
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [api, key]);
  return content?.key === key ? content.value : undefined;
}

function modesFor(content: BodyContent): Mode[] {
  const modes: Mode[] = [];
  if (content.contentType?.toLowerCase().startsWith('image/')) modes.push('image');
  if (content.form !== undefined) modes.push('form');
  if (content.parts !== undefined) modes.push('parts');
  modes.push('pretty', 'hex');
  return modes;
}

function BodyActions({ bytes, content, name }: { bytes: Uint8Array; content: BodyContent; name: string }) {
  const [copied, setCopied] = useState<string | undefined>();
  useEffect(() => setCopied(undefined), [name]);
  const text = asText(bytes, content.contentType);
  const download = (): void => downloadFile(`${name}${extensionFor(content.contentType)}`, bytes as Uint8Array<ArrayBuffer>, content.contentType ?? 'application/octet-stream');
  const copy = (): void =>
    void navigator.clipboard?.writeText(text ?? '').then(
      () => setCopied('copied'),
      () => setCopied('the clipboard refused it'),
    );
  return (
    <span className="body-actions">
      <button type="button" onClick={download}>
        Download
      </button>
      {text !== undefined && (
        <button type="button" onClick={copy}>
          Copy body
        </button>
      )}
      {copied && (
        <span className="muted" role="status">
          {copied}
        </span>
      )}
    </span>
  );
}

function Encoding({ content }: { content: BodyContent }) {
  if (content.encoding === undefined) return null;
  if (content.decodeError !== undefined) {
    return (
      <p className="warn" data-testid="body-encoding">
        {content.encoding}: {content.decodeError}
      </p>
    );
  }
  return (
    <p className="muted" data-testid="body-encoding">
      {content.encoding}-encoded {formatBytes(content.keptBytes)}, shown decoded ({formatBytes(content.decodedBytes ?? 0)})
    </p>
  );
}

function BodyAs({ mode, bytes, content }: { mode: Mode; bytes: Uint8Array; content: BodyContent }) {
  switch (mode) {
    case 'image':
      return (
        <div className="body-image">
          <img src={`data:${content.contentType};base64,${content.base64}`} alt="Body as an image" />
          {content.truncated && <p className="muted">Only the first part was kept: the image may be cut.</p>}
        </div>
      );
    case 'form':
      return <FieldTable fields={content.form ?? []} label="Form fields" />;
    case 'parts':
      return <Parts parts={content.parts ?? []} error={content.partsError} />;
    case 'hex':
      return (
        <pre className="body body-hex" data-testid="body-hex">
          {hexDump(bytes, hexShownBytes)}
          {bytes.length > hexShownBytes && `\n… the first ${formatBytes(hexShownBytes)} of ${formatBytes(bytes.length)}: Download has all of it`}
        </pre>
      );
    case 'pretty': {
      const rendered = renderBytes(bytes, content.contentType);
      return (
        <pre className={`body body-${rendered.kind}`} data-testid="body-text">
          {rendered.kind === 'binary' ? `${rendered.text}\n(binary: see Hex, or Download)` : rendered.text}
        </pre>
      );
    }
  }
}

function Parts({ parts, error }: { parts: BodyPart[]; error?: string }) {
  return (
    <div aria-label="Multipart parts" role="list">
      {error && <p className="warn">Parts as far as they go: {error}</p>}
      {parts.map((part, i) => {
        const bytes = decodeBase64(part.base64);
        const text = asText(bytes, part.contentType);
        return (
          <div role="listitem" key={i} className="part" data-testid="body-part">
            <div className="message-head">
              <strong>{part.name}</strong>
              {part.fileName !== undefined && <span> · file {part.fileName}</span>}
              {part.contentType && <span className="muted"> · {part.contentType}</span>} <span className="muted">· {formatBytes(part.size)}</span>
            </div>
            {part.contentType?.startsWith('image/') && !part.truncated ? (
              <img src={`data:${part.contentType};base64,${part.base64}`} alt={`${part.name} as an image`} />
            ) : (
              <pre className="message-body">
                {text ?? hexDump(bytes, 256)}
                {part.truncated && '\n…'}
              </pre>
            )}
          </div>
        );
      })}
    </div>
  );
}

const extensions: Record<string, string> = {
  'application/json': '.json',
  'text/plain': '.txt',
  'text/html': '.html',
  'text/css': '.css',
  'text/csv': '.csv',
  'application/javascript': '.js',
  'application/xml': '.xml',
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/gif': '.gif',
  'image/webp': '.webp',
  'image/svg+xml': '.svg',
  'application/pdf': '.pdf',
};

function extensionFor(contentType: string | undefined): string {
  return extensions[contentType?.split(';')[0]?.trim().toLowerCase() ?? ''] ?? '.bin';
}
