// A protobuf message read without its schema, as `protoc --decode_raw`
// prints it: fields by number, nested messages where the bytes parse as one,
// text where they are text, else hex. Better than a hex dump for a gRPC
// service that offers no reflection and for which no .proto was given.
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

/** Nesting followed at most; deeper length-delimited fields show as bytes. */
const maxDepth = 16;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The message's fields, one a line, nested ones indented; throws when the bytes are not a protobuf message. */
export function decodeRawProtobuf(bytes: Uint8Array): string {
  return lines(bytes, 0).join('\n');
}

/**
 * Of a message of `size` bytes only the first were kept: the fields that
 * end within them, then where it was cut. Throws when not even its first
 * field reads whole.
 */
export function decodeRawProtobufPrefix(bytes: Uint8Array, size: number): string {
  const reader = new BinaryReader(bytes);
  const out: string[] = [];
  for (;;) {
    const start = reader.pos;
    try {
      out.push(...field(reader, 0));
    } catch {
      if (out.length === 0) throw new Error(`its first ${bytes.length} bytes hold no whole field`);
      return [...out, `… (cut at byte ${start} of ${size})`].join('\n');
    }
  }
}

function lines(bytes: Uint8Array, depth: number): string[] {
  const reader = new BinaryReader(bytes);
  const out: string[] = [];
  while (reader.pos < reader.len) out.push(...field(reader, depth));
  return out;
}

/** The next field's lines. */
function field(reader: BinaryReader, depth: number): string[] {
  const [number, wireType] = reader.tag();
  if (number < 1) throw new Error(`field number ${number} at byte ${reader.pos}`);
  switch (wireType) {
    case WireType.Varint:
      return [`${number}: ${reader.uint64()}`];
    case WireType.Bit64:
      return [`${number}: 0x${BigInt.asUintN(64, BigInt(reader.fixed64())).toString(16).padStart(16, '0')}`];
    case WireType.Bit32:
      return [`${number}: 0x${reader.fixed32().toString(16).padStart(8, '0')}`];
    case WireType.LengthDelimited:
      return lengthDelimited(number, reader.bytes(), depth);
    default:
      // Groups (proto2, long deprecated) and reserved wire types: not a message a gRPC service of today sends.
      throw new Error(`wire type ${wireType} of field ${number}`);
  }
}

function lengthDelimited(field: number, value: Uint8Array, depth: number): string[] {
  // Printable text could also parse as a message ("hi" is field 13 = 105): text is far likelier.
  const text = asText(value);
  if (text !== undefined) return [`${field}: ${JSON.stringify(text)}`];
  if (value.length > 0 && depth < maxDepth) {
    try {
      return [`${field} {`, ...lines(value, depth + 1).map((line) => `  ${line}`), '}'];
    } catch {
      // Not a message: bytes.
    }
  }
  return [`${field}: <${Buffer.from(value).toString('hex')}>`];
}

function asText(bytes: Uint8Array): string | undefined {
  try {
    const text = utf8.decode(bytes);
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}
