// Compressed bytes made readable for display, capped: an HTTP body's
// content-encoding (gzip, deflate, br) or a gRPC message's grpc-encoding
// (gzip, deflate). Kept bytes may be cut at a keep limit: a cut stream
// yields its first part rather than an error.
import { brotliDecompressSync, constants, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { headerPairValue, type HeaderPair } from '../../shared/traffic.js';

/** Decoded bytes shown at most: 64 KiB of gzip can inflate a thousandfold. */
export const decodedBodyCapBytes = 1024 * 1024;

export function decompress(encoding: string, data: Buffer): Buffer {
  const options = { maxOutputLength: decodedBodyCapBytes, finishFlush: constants.Z_SYNC_FLUSH };
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(data, options);
    case 'deflate':
      // RFC 9110 says zlib-wrapped; some servers send raw deflate.
      try {
        return inflateSync(data, options);
      } catch {
        return inflateRawSync(data, options);
      }
    case 'br':
      return brotliDecompressSync(data, { maxOutputLength: decodedBodyCapBytes, finishFlush: constants.BROTLI_OPERATION_FLUSH });
    default:
      throw Object.assign(new Error(`${encoding} is not one the inspector decodes (gzip, deflate, br)`), { code: 'UNSUPPORTED' });
  }
}

/** Bytes sent with `codings` (a Content-Encoding: codings applied one after another, `gzip, br`), taken off the last first (RFC 9110 section 8.4). */
export function decodeContentCodings(codings: string, data: Buffer): Buffer {
  const applied = codings
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  return applied.reduceRight<Buffer>((decoded, coding) => decompress(coding, decoded), data);
}

/** Whether `decompress` stopped at the cap: the bytes were of the coding, only too many once decoded. */
export function overDecodedCap(error: Error & { code?: string }): boolean {
  return error instanceof RangeError || error.code === 'ERR_BUFFER_TOO_LARGE';
}

/** Why `decompress` failed, in words for the detail. */
export function decompressErrorText(encoding: string, error: Error & { code?: string }): string {
  if (error.code === 'UNSUPPORTED') return error.message;
  if (overDecodedCap(error)) return `decoded, it is over ${decodedBodyCapBytes / 1024 / 1024} MiB: shown as sent`;
  return `not valid ${encoding}: ${error.message}`;
}

/**
 * A gRPC message sent compressed, inflated by the grpc-encoding its side of
 * the call named (`headers`: the request's for what the caller sent, the
 * response's for the answers). Throws with the reason in words.
 */
export function inflateGrpcMessage(data: Buffer, headers: readonly HeaderPair[]): Buffer {
  const encoding = headerPairValue(headers, 'grpc-encoding')?.trim().toLowerCase();
  if (encoding === undefined || encoding === 'identity') throw new Error('it is marked compressed, but the call names no grpc-encoding');
  try {
    return decompress(encoding, data);
  } catch (error) {
    throw new Error(`${encoding}-compressed: ${decompressErrorText(encoding, error as Error & { code?: string })}`);
  }
}
