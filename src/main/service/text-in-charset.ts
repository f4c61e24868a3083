// A body typed in Edit and resend, as bytes in the charset its Content-Type
// names: the form shows a `charset=iso-8859-1` body decoded as such (as the
// browser's TextDecoder reads it, windows-1252 for that label), and an edit
// sent as UTF-8 under the same header reached the service as mojibake.
import { BurrowError, ErrorCode } from '../../shared/error-codes.js';

/** Byte of each character, for a charset of one byte per character. */
const singleByteTables = new Map<string, Map<string, number> | undefined>();

/**
 * windows-1252's 0x80-0x9F as the browser decodes them (WHATWG Encoding):
 * Node 20's decoder for that label reads them as Latin-1's control characters.
 */
const windows1252High = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

export function textInCharset(text: string, contentType: string | undefined): Buffer {
  const label = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1];
  const encoding = label === undefined ? 'utf-8' : knownEncoding(label);
  // None named, or one the form could not read either (it showed the body as UTF-8 then).
  if (encoding === undefined || encoding === 'utf-8') return Buffer.from(text, 'utf8');
  if (encoding === 'utf-16le') return Buffer.from(text, 'utf16le');
  const table = singleByteTable(encoding);
  if (table === undefined) {
    throw new BurrowError(ErrorCode.InvalidInput, `an edited body is written in UTF-8 or a charset of one byte per character, not ${label}: change the Content-Type's charset`);
  }
  const bytes = Buffer.alloc(text.length);
  let length = 0;
  for (const character of text) {
    const byte = table.get(character);
    if (byte === undefined) throw new BurrowError(ErrorCode.InvalidInput, `the body has "${character}", which ${label} cannot carry: change the Content-Type's charset (to utf-8) or the text`);
    bytes[length++] = byte;
  }
  return bytes.subarray(0, length);
}

function knownEncoding(label: string): string | undefined {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    return undefined;
  }
}

function singleByteTable(encoding: string): Map<string, number> | undefined {
  if (!singleByteTables.has(encoding)) {
    const decoded = new TextDecoder(encoding).decode(Uint8Array.from({ length: 256 }, (_, byte) => byte));
    const characters = [...decoded];
    if (encoding === 'windows-1252') characters.splice(0x80, 0x20, ...windows1252High);
    singleByteTables.set(encoding, characters.length === 256 ? new Map(characters.map((character, byte) => [character, byte])) : undefined);
  }
  return singleByteTables.get(encoding);
}
