// A kept body made readable: decompressed when it was sent gzip, deflate or
// br, and parsed into fields when it is a form or multipart. Display only:
// nothing here is kept, and what it makes is capped.
import { Readable } from 'node:stream';
import type busboy from 'busboy';
import type { BodyContent, BodyPart, BodyPreview } from '../../shared/contract.js';
import { headerPairValue, type HeaderPair } from '../../shared/traffic.js';
import { decodeContentCodings, decompressErrorText } from './decompress.js';

/** Bytes of each multipart part shown. */
export const partPreviewBytes = 4 * 1024;

export async function bodyContent(preview: BodyPreview, headers: readonly HeaderPair[]): Promise<BodyContent> {
  const kept = Buffer.from(preview.base64, 'base64');
  const content: BodyContent = { ...preview, keptBytes: kept.length };
  let bytes: Buffer = kept;
  const encoding = headerPairValue(headers, 'content-encoding')?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity' && kept.length > 0) {
    content.encoding = encoding;
    try {
      bytes = decodeContentCodings(encoding, kept);
      content.base64 = bytes.toString('base64');
      content.decodedBytes = bytes.length;
    } catch (error) {
      content.decodeError = decompressErrorText(encoding, error as Error & { code?: string });
    }
  }
  const contentType = preview.contentType?.toLowerCase() ?? '';
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    content.form = [...new URLSearchParams(bytes.toString('utf8'))];
  } else if (contentType.startsWith('multipart/form-data') && preview.contentType !== undefined) {
    Object.assign(content, await multipartParts(preview.contentType, bytes));
  }
  return content;
}

/** Fields and files of a multipart/form-data body, as far as the kept bytes go. */
async function multipartParts(contentType: string, body: Buffer): Promise<Pick<BodyContent, 'parts' | 'partsError'>> {
  const parts: BodyPart[] = [];
  /** First bytes of each file part; filled in at the end, also when the body was cut mid-file. */
  const heads = new Map<BodyPart, Buffer[]>();
  // Loaded when first used: few sessions look at an upload.
  const { default: makeParser } = await import('busboy');
  let parser: busboy.Busboy;
  try {
    parser = makeParser({ headers: { 'content-type': contentType }, limits: { fieldSize: partPreviewBytes } });
  } catch (error) {
    return { parts, partsError: (error as Error).message };
  }
  const done = new Promise<string | undefined>((resolve) => {
    parser.on('field', (name, value, info) => {
      const bytes = Buffer.from(value);
      parts.push({ name, size: bytes.length, base64: bytes.toString('base64'), contentType: info.mimeType, ...(info.valueTruncated && { truncated: true }) });
    });
    parser.on('file', (name, stream, info) => {
      const part: BodyPart = { name, fileName: info.filename, contentType: info.mimeType, size: 0, base64: '' };
      parts.push(part);
      const head: Buffer[] = [];
      heads.set(part, head);
      let held = 0;
      stream.on('data', (chunk: Buffer) => {
        part.size += chunk.length;
        if (held < partPreviewBytes) {
          const piece = chunk.subarray(0, partPreviewBytes - held);
          head.push(piece);
          held += piece.length;
        }
      });
      // A body cut mid-file fails the part too; the parser reports it once, below.
      stream.on('error', () => undefined);
      stream.resume();
    });
    parser.on('close', () => resolve(undefined));
    parser.on('error', (error: Error) => resolve(error.message));
  });
  Readable.from([body]).pipe(parser);
  const error = await done;
  for (const [part, head] of heads) {
    const shown = Buffer.concat(head);
    part.base64 = shown.toString('base64');
    if (part.size > shown.length) part.truncated = true;
  }
  return { parts, ...(error !== undefined && { partsError: error }) };
}
