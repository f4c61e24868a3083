// A HAR file (ours or a browser's) as traffic events, so the inspector shows
// its requests like live ones. Each entry gets a new request_id (importing
// an export of this very log must not merge with what is still in it);
// entries that are not requests are reported, not guessed at.
import { randomUUID } from 'node:crypto';
import { headerPairValue, type HeaderPair, type TrafficEvent, type TrafficProtocol } from '../../shared/traffic.js';
import { maxResponseHeadBytes } from '../tunnel/config.js';
import { decodeContentCodings, overDecodedCap } from './decompress.js';
import { writtenAsSent } from './request-url.js';
import { dateRangeMs, webSocketFrameEvents } from './websocket-har.js';

export interface HarImport {
  /** Each imported request's events, in order. */
  requests: TrafficEvent[][];
  /** Why entries were left out, by their position in the file. */
  skipped: string[];
}

/** A request's URL and headers and its response's headers, at most: two heads of the largest a tunnel carries. */
const maxImportedHeadBytes = 2 * maxResponseHeadBytes;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const protocols = new Set<TrafficProtocol>(['http', 'websocket', 'grpc']);

/** The bytes of a HAR header list's names and values, as far as they are strings. */
function fieldBytes(headers: unknown): number {
  if (!Array.isArray(headers)) return 0;
  let bytes = 0;
  for (const h of headers) if (isObject(h)) bytes += (typeof h.name === 'string' ? h.name.length : 0) + (typeof h.value === 'string' ? h.value.length : 0);
  return bytes;
}

function pairs(headers: unknown): HeaderPair[] {
  if (!Array.isArray(headers)) return [];
  return headers.filter((h): h is Json => isObject(h) && typeof h.name === 'string' && typeof h.value === 'string').map((h) => [h.name as string, h.value as string]);
}

function contentBytes(content: unknown): Buffer {
  if (!isObject(content) || typeof content.text !== 'string') return Buffer.alloc(0);
  return Buffer.from(content.text, content.encoding === 'base64' ? 'base64' : 'utf8');
}

/**
 * A response's headers for the body as the HAR gives it: decoded, as HAR
 * 1.2 has it (browsers' exports, and Burrow's), its Content-Encoding no
 * longer holds (the inspector would try to decode it again, and fail); a
 * body that still decodes by it (an older export) keeps it.
 */
function asContentCame(headers: HeaderPair[], body: Buffer): HeaderPair[] {
  const coding = headerPairValue(headers, 'content-encoding');
  if (coding === undefined || body.length === 0) return headers;
  try {
    decodeContentCodings(coding, body);
    return headers;
  } catch (error) {
    // Past the cap it decoded as far as it went: still in the coding.
    if (overDecodedCap(error as Error)) return headers;
    return headers.filter(([name]) => name.toLowerCase() !== 'content-encoding');
  }
}

/** Reasons listed for entries left out, at most; the rest are counted. */
export const maxSkippedReasons = 100;

/**
 * The HAR's requests as events: the newest `newest` of them (a log that keeps
 * that many would evict the older ones at once, after their work: a million
 * entries took 11 s of the agent's one event loop, and its tunnels with it).
 */
export function harToEvents(har: unknown, newest = Number.POSITIVE_INFINITY): HarImport {
  const entries = isObject(har) && isObject(har.log) ? har.log.entries : undefined;
  if (!Array.isArray(entries)) throw new Error('not a HAR file: expected {"log": {"entries": [...]}}');
  const requests: TrafficEvent[][] = [];
  const reasons: string[] = [];
  let unlisted = 0;
  let firstListed = 0;
  const skip = (index: number, reason: string): void => {
    if (reasons.length === maxSkippedReasons) {
      unlisted += 1;
      return;
    }
    reasons.push(`entry ${index + 1}: ${reason}`);
    firstListed = index + 1;
  };
  // From the newest back, so that the entries the log keeps are the ones converted.
  let index = entries.length - 1;
  for (; index >= 0 && requests.length < newest; index -= 1) {
    const request = convertEntry(entries[index], index, skip);
    if (request !== undefined) requests.push(request);
  }
  const skipped = reasons.reverse();
  if (unlisted > 0) skipped.unshift(`${unlisted} more entries before entry ${firstListed}: left out too, not listed one by one`);
  if (index >= 0) skipped.unshift(`entries 1 to ${index + 1}: left out, the traffic log keeps the newest ${newest} requests`);
  return { requests: requests.reverse(), skipped };
}

/** One HAR entry's events, or undefined (and the reason to `skip`) when it is not a request Burrow can show. */
function convertEntry(entry: unknown, index: number, skip: (index: number, reason: string) => void): TrafficEvent[] | undefined {
  const request = isObject(entry) ? entry.request : undefined;
  const response = isObject(entry) ? entry.response : undefined;
  let url: URL;
  try {
    if (!isObject(request) || typeof request.method !== 'string' || typeof request.url !== 'string') throw new Error('no request method and URL');
    url = new URL(request.url);
  } catch (error) {
    skip(index, (error as Error).message);
    return undefined;
  }
  // The log's byte budget holds bodies and messages; heads are bounded by what a tunnel carries. An imported
  // head past that was kept outside the budget, and repeated imports ran the process out of memory.
  const headBytes = request.url.length + fieldBytes(request.headers) + (isObject(response) ? fieldBytes(response.headers) : 0);
  if (headBytes > maxImportedHeadBytes) {
    skip(index, `its URL and headers are ${Math.ceil(headBytes / 1024)} KiB, more than a tunnel carries (${maxImportedHeadBytes / 1024} KiB)`);
    return undefined;
  }
  const e = entry as Json;
  const requestId = randomUUID();
  const at = Date.parse(String(e.startedDateTime)) || Date.now();
  // Times a date cannot hold (a hand-written 1e300) would fail every later export of the entry.
  const durationMs = typeof e.time === 'number' && e.time >= 0 && e.time <= dateRangeMs ? e.time : 0;
  const headers = pairs((request as Json).headers);
  if (headerPairValue(headers, 'host') === undefined) headers.unshift(['host', url.host]);
  const requestBody = contentBytes((request as Json).postData);
  const responseBody = isObject(response) ? contentBytes(response.content) : Buffer.alloc(0);
  const status = isObject(response) && typeof response.status === 'number' ? response.status : 0;
  // A browser's export marks a WebSocket by its resource type (Chrome), Burrow's by its protocol; other tools' by its messages alone.
  const websocket = e._resourceType === 'websocket' || (Array.isArray(e._webSocketMessages) && e._webSocketMessages.length > 0);
  const protocol = protocols.has(e._protocol as TrafficProtocol) ? (e._protocol as TrafficProtocol) : websocket ? 'websocket' : 'http';
  const frames = protocol === 'websocket' ? webSocketFrameEvents(e._webSocketMessages, requestId, at) : [];
  const frameBytes = (direction: string): number => frames.reduce((sum, frame) => sum + (frame.kind === 'ws-frame' && frame.direction === direction ? frame.size : 0), 0);
  const events: TrafficEvent[] = [
    {
      kind: 'request-start',
      requestId,
      tunnel: typeof e._tunnel === 'string' ? e._tunnel : url.hostname.split('.')[0]!,
      protocol,
      method: (request as Json).method as string,
      path: pathAsSent(request.url as string, url),
      headers,
      remoteAddress: '',
      at,
      httpVersion: recordedHttpVersion((request as Json).httpVersion),
    },
  ];
  // A body the HAR kept only part of (its bodySize says more): shown as cut, so that Replay refuses to send the part as the whole.
  const requestBodySize = (request as Json).bodySize;
  const missingBytes = typeof requestBodySize === 'number' && requestBodySize > requestBody.length ? requestBodySize - requestBody.length : 0;
  if (requestBody.length > 0 || missingBytes > 0) events.push({ kind: 'body', requestId, direction: 'to-service', data: requestBody, at, ...(missingBytes > 0 && { missingBytes }) });
  if (status > 0) events.push({ kind: 'response-head', requestId, status, headers: asContentCame(pairs(isObject(response) ? response.headers : undefined), responseBody), at: at + durationMs });
  if (responseBody.length > 0) events.push({ kind: 'body', requestId, direction: 'to-client', data: responseBody, at: at + durationMs });
  events.push(...frames);
  const bytesIn = requestBody.length + missingBytes + frameBytes('to-service');
  events.push({ kind: 'request-end', requestId, status, bytesIn, bytesOut: responseBody.length + frameBytes('to-client'), durationMs, at: at + durationMs });
  return events;
}

/** The URL's path and query as the HAR writes them, dot segments too (a URL object resolves them); else as the URL parses them. */
function pathAsSent(text: string, url: URL): string {
  const written = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(\/[^#]*)/i.exec(text)?.[1];
  return written !== undefined && writtenAsSent(written) ? written : `${url.pathname}${url.search}`;
}

/** "HTTP/2.0", "http/1.1", "h2" as HAR writers spell the version: as the edge reports it ("2.0", "1.1"), or none. */
function recordedHttpVersion(version: unknown): string | undefined {
  if (typeof version !== 'string') return undefined;
  if (/^h2$/i.test(version)) return '2.0';
  const numbered = /^http\/(\d)(?:\.(\d))?$/i.exec(version.trim());
  return numbered === null ? undefined : `${numbered[1]}.${numbered[2] ?? '0'}`;
}
