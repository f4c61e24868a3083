// Requests from the traffic log as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/):
// what the inspector exports, and what snippet generators read. Bodies are
// the bytes the log kept (a truncated or released body says so in a
// comment); the URL is the tunnel's public URL with the request's path (the
// client's Host header when the tunnel's URL is not known).
import { STATUS_CODES } from 'node:http';
import type { Content, Cookie, Entry, Har, Header, Param, PostData, QueryString, Request } from 'har-format';
import type { BodyPreview, RequestDetail } from '../../shared/contract.js';
import { headerPairValue, type HeaderPair } from '../../shared/traffic.js';
import { decodeContentCodings, decompressErrorText } from './decompress.js';
import { requestUrl, writtenAsSent } from './request-url.js';
import type { KeptMessage } from './traffic-log.js';
import { harWebSocketMessages } from './websocket-har.js';

const creator = { name: 'Burrow', version: '0.1.0' };

/** Made again by whoever sends the request again: from the URL and the body they send (a snippet, not the HAR, leaves them out). */
export const recomputedHeaders = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']);

const harHeaders = (pairs: readonly HeaderPair[]): Header[] => pairs.map(([name, value]) => ({ name, value }));

/** Said of a request body given in base64, which a HAR reader may not expect. */
export const binaryBodyComment = 'binary body, in base64 (encoding)';

/** One `name=value` of a Cookie or Set-Cookie field; one with no `=` is a value with no name (RFC 6265 section 5.2). */
function cookiePair(text: string): Cookie {
  const pair = text.trim();
  const equals = pair.indexOf('=');
  return equals < 0 ? { name: '', value: pair } : { name: pair.slice(0, equals).trim(), value: pair.slice(equals + 1).trim() };
}

/** The cookies a request sent, from its Cookie fields. */
function requestCookies(headers: readonly HeaderPair[]): Cookie[] {
  return headers
    .filter(([name]) => name.toLowerCase() === 'cookie')
    .flatMap(([, value]) => value.split(';'))
    .filter((pair) => pair.trim() !== '')
    .map(cookiePair);
}

/** The cookies an answer set, from its Set-Cookie fields (RFC 6265 section 5.2), with the attributes HAR names. */
function responseCookies(headers: readonly HeaderPair[]): Cookie[] {
  return headers
    .filter(([name]) => name.toLowerCase() === 'set-cookie')
    .map(([, value]) => {
      const [pair = '', ...attributes] = value.split(';');
      const cookie = cookiePair(pair);
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        const attributeValue = rest.join('=').trim();
        switch (key.trim().toLowerCase()) {
          case 'path':
            cookie.path = attributeValue;
            break;
          case 'domain':
            cookie.domain = attributeValue;
            break;
          case 'expires':
            if (!Number.isNaN(Date.parse(attributeValue))) cookie.expires = new Date(attributeValue).toISOString();
            break;
          case 'httponly':
            cookie.httpOnly = true;
            break;
          case 'secure':
            cookie.secure = true;
            break;
        }
      }
      return cookie;
    });
}

/** Text when the bytes are UTF-8 (JSON, forms, text), else undefined. */
function utf8Text(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

/** The origin the request named, for a tunnel not online now; a Host that names none (any client may send `app.localhost:99999`) gives localhost. */
function recordedOrigin(detail: RequestDetail): string {
  const origin = `http://${headerPairValue(detail.requestHeaders, 'host') ?? 'localhost'}`;
  return URL.canParse(origin) ? new URL(origin).origin : 'http://localhost';
}

/** Why a kept body is not the whole body, or undefined when it is. */
export function bodyShortfall(body: BodyPreview): string | undefined {
  if (body.released) return `the body (${body.totalBytes} bytes) was let go to keep the traffic log within its budget`;
  if (body.truncated) return `only the first ${Buffer.from(body.base64, 'base64').length} of ${body.totalBytes} body bytes were kept`;
  return undefined;
}

/** As Chrome writes it (HTTP/1.1, HTTP/2.0); HTTP/1.1 when the edge did not say (one before it did). */
const harHttpVersion = (detail: RequestDetail): string => `HTTP/${detail.httpVersion ?? '1.1'}`;

/** The request as HAR, with its body as the log kept it; `origin` is the tunnel's public origin (scheme, host, port). */
export function harRequest(detail: RequestDetail, origin?: string): Request {
  const url = requestUrl(origin ?? recordedOrigin(detail), detail.path);
  const queryString: QueryString[] = [...url.searchParams].map(([name, value]) => ({ name, value }));
  const bytes = Buffer.from(detail.requestBody.base64, 'base64');
  const mimeType = detail.requestBody.contentType ?? 'application/octet-stream';
  const text = utf8Text(bytes);
  // HAR 1.2 gives a request body no encoding: binary goes in base64, marked as response content is (Burrow's import reads it).
  const postData: PostData | undefined =
    bytes.length === 0 ? undefined : text !== undefined ? ({ mimeType, text, ...formParams(mimeType, text) } as PostData) : ({ mimeType, text: bytes.toString('base64'), encoding: 'base64', comment: binaryBodyComment } as PostData);
  const shortfall = bodyShortfall(detail.requestBody);
  return {
    method: detail.method,
    url: asSentUrl(url, detail.path),
    httpVersion: harHttpVersion(detail),
    cookies: requestCookies(detail.requestHeaders),
    // As the client sent them, Host and lengths too, as a browser's HAR has them (the HAR audit).
    // A cut body's Content-Length would make a tool sending the HAR's text wait for the rest.
    headers: harHeaders([...detail.requestHeaders, ...detail.requestTrailers].filter(([name]) => !(shortfall && name.toLowerCase() === 'content-length'))),
    queryString,
    ...(postData && { postData }),
    headersSize: -1,
    bodySize: detail.requestBody.totalBytes,
    ...(shortfall && { comment: shortfall }),
  };
}

/**
 * The URL with the path as the client sent it: a URL object resolves its dot
 * segments (`/a/../b` became `/b`, and an import read back another request).
 * One a URI does not hold as it is, or one starting `//`, goes as the URL has it.
 */
function asSentUrl(url: URL, path: string): string {
  return writtenAsSent(path) && !path.startsWith('//') ? `${url.origin}${path}` : url.href;
}

/**
 * A URL-encoded form's fields, as browsers' HAR gives them: beside its text
 * (HAR 1.2 has them exclusive), as Chrome writes both, for the exact bytes.
 * Only when they make that text again: tools that send a HAR's form from its
 * params (httpsnippet's) sent `+` as a space and %FF as U+FFFD, under the
 * recorded Content-Length (a review: the request hung, 4 bytes short).
 */
function formParams(mimeType: string, text: string): { params?: Param[] } {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(mimeType)) return {};
  const fields = new URLSearchParams(text);
  return fields.toString() === text ? { params: [...fields].map(([name, value]) => ({ name, value })) } : {};
}

/** Decoded body bytes one export writes at most: a thousand kept gzip bodies decoded made a HAR of gigabytes, and the agent ran out of memory. */
export const decodedBytesPerExport = 16 * 1024 * 1024;

/** What is left of an export's decoded bytes (decodedBytesPerExport), shared by its entries. */
export interface DecodingBudget {
  bytesLeft: number;
}

/**
 * The answer's body as HAR 1.2 wants it: decoded from its content coding,
 * `size` its decoded length and `compression` what the coding saved (a HAR
 * reader showed gzip bytes as the body). Kept as sent, and said so, when
 * only part of it was kept or it will not decode.
 */
function harContent(body: BodyPreview, headers: readonly HeaderPair[], decoding: DecodingBudget): Content {
  const bytes = Buffer.from(body.base64, 'base64');
  const shortfall = bodyShortfall(body);
  const asSent = (comment?: string): Content => ({
    size: body.totalBytes,
    mimeType: body.contentType ?? 'application/octet-stream',
    ...(bytes.length > 0 && { text: bytes.toString('base64'), encoding: 'base64' }),
    ...(comment && { comment }),
  });
  const coding = headerPairValue(headers, 'content-encoding')?.trim().toLowerCase();
  if (coding === undefined || coding === '' || coding === 'identity' || bytes.length === 0) return asSent(shortfall);
  if (shortfall !== undefined) return asSent(`${shortfall}; as sent (${coding})`);
  if (decoding.bytesLeft <= 0) return asSent(`as sent (${coding}): the export's decoded bodies reached ${decodedBytesPerExport / 1024 / 1024} MiB`);
  let decoded: Buffer;
  try {
    decoded = decodeContentCodings(coding, bytes);
  } catch (error) {
    return asSent(`as sent (${coding}): ${decompressErrorText(coding, error as Error & { code?: string })}`);
  }
  decoding.bytesLeft -= decoded.length;
  return { size: decoded.length, compression: decoded.length - bytes.length, mimeType: body.contentType ?? 'application/octet-stream', text: decoded.toString('base64'), encoding: 'base64' };
}

/** `messages`: a WebSocket's kept messages, written as Chrome writes them (websocket-har.ts). */
export function harEntry(detail: RequestDetail, origin?: string, messages: readonly KeptMessage[] = [], decoding: DecodingBudget = { bytesLeft: decodedBytesPerExport }): Entry {
  const timings = harTimings(detail);
  return {
    startedDateTime: new Date(detail.startedAt - (detail.edgeWaitMs ?? 0)).toISOString(),
    time: Math.max(0, timings.blocked) + timings.send + timings.wait + timings.receive,
    request: harRequest(detail, origin),
    response: {
      status: detail.status ?? 0,
      // The service's own reason phrase is not kept: the status's standard one, as clients show it.
      statusText: STATUS_CODES[detail.status ?? 0] ?? '',
      // The edge answers HTTP/2 in HTTP/2, and any HTTP/1 client in HTTP/1.1 (Node's server does, to 1.0 too).
      httpVersion: detail.httpVersion === '2.0' ? 'HTTP/2.0' : 'HTTP/1.1',
      cookies: responseCookies(detail.responseHeaders),
      headers: harHeaders([...detail.responseHeaders, ...detail.trailers]),
      content: harContent(detail.responseBody, detail.responseHeaders, decoding),
      redirectURL: headerPairValue(detail.responseHeaders, 'location') ?? '',
      headersSize: -1,
      bodySize: detail.responseBody.totalBytes,
    },
    cache: {},
    timings,
    ...(detail.error && { comment: `${detail.error.code}: ${detail.error.message}` }),
    ...(detail.state === 'in-flight' && { comment: 'still in flight when exported: no answer yet, or not all of it' }),
    _requestId: detail.requestId,
    _tunnel: detail.tunnel,
    _protocol: detail.protocol,
    ...(detail.grpcStatus !== undefined && { _grpcStatus: detail.grpcStatus }),
    ...(detail.protocol === 'websocket' && {
      _resourceType: 'websocket',
      _webSocketMessages: harWebSocketMessages(messages),
      ...(detail.messagesTruncated && { _olderMessagesDropped: true }),
    }),
  };
}

/** The phases the log knows: held at the edge (blocked), then waiting for the first byte, then receiving. */
function harTimings(detail: RequestDetail): { blocked: number; send: number; wait: number; receive: number } {
  // One still in flight has lasted until the export so far (its timings were all 0).
  const durationMs = detail.durationMs ?? (detail.state === 'in-flight' ? Math.max(0, Date.now() - detail.startedAt) : 0);
  const wait = Math.min(detail.firstByteMs ?? durationMs, durationMs);
  return { blocked: detail.edgeWaitMs ?? -1, send: 0, wait, receive: durationMs - wait };
}

export function toHar(entries: Entry[]): Har {
  return { log: { version: '1.2', creator, entries } };
}
