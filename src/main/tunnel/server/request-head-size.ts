// A request head's size as the edge's --max-header-bytes counts it. Node
// applies the limit itself, but the edge sets Node's own limit higher, so that
// a request another edge forwarded is not refused for the fields that hop
// added (X-Forwarded-*, its mark): the edge then checks everyone else's head
// here, at the limit it was given, exactly where Node would have.
import type { IncomingMessage } from 'node:http';
import { ErrorCode } from '../errors.js';

/** Room in Node's limit for what a hop adds: X-Forwarded-Host repeats Host, which may be nearly the whole head. */
export function parserHeaderBytes(maxHeaderBytes: number): number {
  return 2 * maxHeaderBytes + 1024;
}

/**
 * HTTP/1.1 as Node counts it: the target and each field's name and value
 * (not the method, the version nor line ends), refused from the limit on.
 * Node also counts a value's trailing blanks, which are gone by now: such
 * heads get those few bytes more.
 */
export function http1HeadRefusal(req: IncomingMessage, maxHeaderBytes: number): { code: string; message: string } | undefined {
  const target = req.url?.length ?? 0;
  return target + fieldBytes(req.rawHeaders) < maxHeaderBytes ? undefined : headTooLarge(target >= maxHeaderBytes, maxHeaderBytes);
}

/** The names and values of a raw field list, as Node counts a head's or trailers' size. */
export function fieldBytes(raw: string[]): number {
  let bytes = 0;
  for (const field of raw) bytes += field.length;
  return bytes;
}

/** 414 when the request line alone is past the limit (a URL), else 431. */
export function headTooLarge(lineTooLong: boolean, maxHeaderBytes: number): { code: string; message: string } {
  return lineTooLong
    ? { code: ErrorCode.UriTooLong, message: `the request line is over the ${maxHeaderBytes} bytes head limit` }
    : { code: ErrorCode.HeaderTooLarge, message: `the request head is over the ${maxHeaderBytes} bytes limit` };
}

/** HTTP/2 as SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113 section 6.5.2): each field's name and value, and 32 bytes more. */
export function headerListBytes(rawHeaders: string[]): number {
  return fieldBytes(rawHeaders) + 16 * rawHeaders.length;
}
