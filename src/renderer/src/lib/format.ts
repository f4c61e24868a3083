// Display helpers: sizes, durations and body text, pretty-printed when JSON.
import { charsetLabel } from '../../../shared/charset.js';

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '…';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** How long a request still under way has run, by the whole second (it changes once a second); '…' in its first. */
export function formatElapsed(ms: number): string {
  return ms < 1000 ? '…' : `${Math.floor(ms / 1000)} s…`;
}

export function formatTime(unixMs: number): string {
  const d = new Date(unixMs);
  return `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export function decodeBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The decoder for the charset a Content-Type names (`text/plain; charset=iso-8859-1`); UTF-8 when it names none the browser knows. */
function decoderFor(contentType: string | undefined): TextDecoder {
  const charset = charsetLabel(contentType);
  if (charset === undefined) return utf8;
  try {
    return new TextDecoder(charset, { fatal: true });
  } catch {
    return utf8;
  }
}

/** Text in the charset its Content-Type names (UTF-8 by default), or undefined when the bytes are not text. */
export function asText(bytes: Uint8Array, contentType?: string): string | undefined {
  try {
    const text = decoderFor(contentType).decode(bytes);
    // Control characters other than whitespace mean binary.
    return /[\u0000-\u0008\u000e-\u001f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

export function hexDump(bytes: Uint8Array, max = 512): string {
  const lines: string[] = [];
  for (let offset = 0; offset < Math.min(bytes.length, max); offset += 16) {
    const row = bytes.subarray(offset, Math.min(offset + 16, bytes.length, max));
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(6, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}

/** JSON re-indented when it parses, else the text as it came. */
export function prettyJson(text: string): { text: string; json: boolean } {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return { text, json: false };
  try {
    return { text: JSON.stringify(JSON.parse(trimmed), null, 2), json: true };
  } catch {
    return { text, json: false };
  }
}

export interface RenderedBody {
  kind: 'empty' | 'json' | 'text' | 'binary';
  text: string;
}

/** Bytes as JSON (re-indented), text, or a hex dump of their start. */
export function renderBytes(bytes: Uint8Array, contentType?: string): RenderedBody {
  if (bytes.length === 0) return { kind: 'empty', text: '' };
  const text = asText(bytes, contentType);
  if (text === undefined) return { kind: 'binary', text: hexDump(bytes) };
  const pretty = prettyJson(text);
  // A truncated JSON body will not parse; it is still shown as text.
  return pretty.json ? { kind: 'json', text: pretty.text } : { kind: 'text', text };
}
