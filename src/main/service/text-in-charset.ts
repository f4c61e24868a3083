// A body typed in Edit and resend, as bytes in the charset its Content-Type
// names: the form shows a `charset=iso-8859-1` body decoded as such (as the
// browser's TextDecoder reads it, windows-1252 for that label), and an edit
// sent as UTF-8 under the same header reached the service as mojibake.
import { charsetLabel } from '../../shared/charset.js';
import { BurrowError, ErrorCode } from '../../shared/error-codes.js';

/** Byte of each character, for a charset of one byte per character. */
const singleByteTables = new Map<string, Map<string, number> | undefined>();

/**
 * windows-1252's 0x80-0x9F as the browser decodes them (WHATWG Encoding):
 * Node 20's decoder for that label reads them as Latin-1's control characters.
 */
const windows1252High = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

export function textInCharset(text: string, contentType: string | undefined): Buffer {
  const label = charsetLabel(contentType);
  const encoding = label === undefined ? 'utf-8' : knownEncoding(label);
  // None named, or one the form could not read either (it showed the body as UTF-8 then).
  if (encoding === undefined || encoding === 'utf-8') return Buffer.from(text, 'utf8');
  if (encoding === 'utf-16le' || encoding === 'utf-16be') {
    const bytes = Buffer.from(text, 'utf16le');
    if (encoding === 'utf-16be') bytes.swap16();
    // The form's decoder took off a byte-order mark; `charset=utf-16` without one reads as big-endian (RFC 2781).
    return /^utf-?16$/i.test(label!) ? Buffer.concat([Buffer.from([0xff, 0xfe]), bytes]) : bytes;
  }
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

/** WHATWG Encoding's legacy charsets of more than one byte a character; iso-2022-jp reads as one byte a character when no escape comes. */
const multiByte = new Set(['gbk', 'gb18030', 'big5', 'euc-jp', 'iso-2022-jp', 'shift_jis', 'euc-kr']);

/**
 * One character per byte, each byte read alone as within a run, no two
 * bytes the same character; a byte the charset leaves undefined (U+FFFD)
 * is none a character becomes (it was written as an arbitrary one).
 */
function singleByteTable(encoding: string): Map<string, number> | undefined {
  if (multiByte.has(encoding)) return undefined;
  if (!singleByteTables.has(encoding)) {
    const decoder = new TextDecoder(encoding);
    const characters = Array.from({ length: 256 }, (_, byte) => decoder.decode(Uint8Array.of(byte)));
    const together = decoder.decode(Uint8Array.from({ length: 256 }, (_, byte) => byte));
    if (encoding === 'windows-1252') characters.splice(0x80, 0x20, ...windows1252High);
    const defined = characters.filter((character) => character !== '\ufffd');
    const oneByte =
      characters.every((character) => [...character].length === 1) &&
      (encoding === 'windows-1252' || characters.join('') === together) &&
      new Set(defined).size === defined.length;
    singleByteTables.set(encoding, oneByte ? new Map(characters.flatMap((character, byte) => (character === '\ufffd' ? [] : [[character, byte] as const]))) : undefined);
  }
  return singleByteTables.get(encoding);
}
