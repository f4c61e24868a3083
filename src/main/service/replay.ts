// Sends a recorded HTTP request again, as it was or edited, through the
// tunnel's public URL: it is public traffic like any other (the edge's
// limits, the agent's log), marked so the new request is shown as a replay
// of its original.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ReplayEdit, RequestDetail } from '../../shared/contract.js';
import { BurrowError, ErrorCode } from '../../shared/error-codes.js';
import { replayOfHeader, type HeaderPair } from '../../shared/traffic.js';
import { bodyShortfall } from './har.js';
import { requestUrl } from './request-url.js';
import { textInCharset } from './text-in-charset.js';

/** Made again for the new request, from its URL, body and trailers. */
const remadeHeaders = new Set(['host', 'content-length', 'transfer-encoding', 'trailer', 'connection', 'keep-alive', 'upgrade', replayOfHeader]);

const replayTimeoutMs = 60_000;

export interface ReplayPlan {
  method: string;
  url: URL;
  /** The request target as the client sent it (or as edited): a URL resolves dot segments. */
  path: string;
  headers: HeaderPair[];
  body: Buffer;
  /** The original's request trailers: sent after a chunked body. */
  trailers: HeaderPair[];
}

/**
 * What to send: the original, with the edits applied; refuses a body the log
 * did not keep whole. `mark`: the replay header's value, the original's id
 * and, to find this replay in the log, whatever follows a `;`.
 */
export function replayPlan(original: RequestDetail, origin: string, edit: ReplayEdit = {}, mark = original.requestId): ReplayPlan {
  if (original.protocol !== 'http') throw new BurrowError(ErrorCode.InvalidInput, `only HTTP requests can be replayed (this is ${original.protocol})`);
  const shortfall = edit.body === undefined ? bodyShortfall(original.requestBody) : undefined;
  if (shortfall !== undefined) throw new BurrowError(ErrorCode.InvalidInput, `cannot replay as it was: ${shortfall}; edit the body to send one`);
  checkEditTypes(edit);
  const method = (edit.method ?? original.method).trim().toUpperCase();
  if (!/^[A-Z][A-Z0-9!#$%&'*+.^_`|~-]*$/.test(method)) throw new BurrowError(ErrorCode.InvalidInput, `"${method}" is not an HTTP method`);
  // Its answer opens a tunnel of its own, which Node hands to no one: the replay would never end.
  if (method === 'CONNECT') throw new BurrowError(ErrorCode.InvalidInput, 'CONNECT cannot be replayed');
  const path = edit.path ?? original.path;
  if (!path.startsWith('/')) throw new BurrowError(ErrorCode.InvalidInput, `the path must start with "/" (got "${path}")`);
  const headers = (edit.headers ?? original.requestHeaders).filter(([name]) => !remadeHeaders.has(name.toLowerCase()));
  for (const [name, value] of headers) {
    // A value is bytes: tab, visible ASCII and obs-text (RFC 9110 section 5.5); anything else Node refuses to send.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || !/^[\t\x20-\x7e\x80-\xff]*$/.test(value)) throw new BurrowError(ErrorCode.InvalidInput, `invalid header "${name}"`);
  }
  const contentType = headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  const body = edit.body !== undefined ? textInCharset(edit.body, contentType) : Buffer.from(original.requestBody.base64, 'base64');
  const url = requestUrl(origin, path);
  return { method, url, path: requestTarget(path, path === original.path), headers: [...headers, [replayOfHeader, mark]], body, trailers: original.requestTrailers };
}

/**
 * The path as sent, dot segments and all; what no parser takes raw goes
 * percent-encoded (a Latin-1 character went as one raw byte, which the edge
 * refuses: 400). A recorded path holds the client's bytes as Latin-1
 * characters (an HTTP/2 client may send raw UTF-8): each is one byte again;
 * what an edit typed (a space, é, 日本) is text, encoded as UTF-8, as a URL would.
 */
function requestTarget(path: string, recorded: boolean): string {
  return path.replace(/[^\x21-\x7e]/gu, (character) => {
    const bytes = recorded && character.charCodeAt(0) <= 0xff ? [character.charCodeAt(0)] : [...Buffer.from(character, 'utf8')];
    return bytes.map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  });
}

/** An edit from the inspector's socket is any JSON: each field must be what ReplayEdit says. */
function checkEditTypes(edit: ReplayEdit): void {
  const wrong = (field: string, what: string): never => {
    throw new BurrowError(ErrorCode.InvalidInput, `edit.${field} must be ${what}`);
  };
  if (edit.method !== undefined && typeof edit.method !== 'string') wrong('method', 'a string');
  if (edit.path !== undefined && typeof edit.path !== 'string') wrong('path', 'a string');
  if (edit.body !== undefined && typeof edit.body !== 'string') wrong('body', 'a string');
  const pairs = edit.headers as unknown;
  if (pairs !== undefined && (!Array.isArray(pairs) || !pairs.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every((part) => typeof part === 'string')))) {
    wrong('headers', 'a list of [name, value] string pairs');
  }
}

/** Sends the plan; resolves with the response status once the response has been read. */
export function sendReplay(plan: ReplayPlan): Promise<number> {
  const { url } = plan;
  const host = edgeHost(url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  // Trailers need a chunked body (Node refuses them on one of known length); their Trailer field is made again.
  const framing = plan.trailers.length > 0 ? ['transfer-encoding', 'chunked', 'trailer', plan.trailers.map(([name]) => name).join(', ')] : ['content-length', String(plan.body.length)];
  const headers = [...plan.headers.flat(), 'host', url.host, ...framing];
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = send({ host, port: url.port, path: plan.path, method: plan.method, headers, servername: url.hostname, timeout: replayTimeoutMs }, (res) => {
      answered = true;
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${replayTimeoutMs / 1000} s`)));
    req.once('error', (error) => reject(new BurrowError(ErrorCode.LocalFailed, `replay to ${url.origin} failed: ${error.message}`)));
    // Closed with no answer and no error (an upgrade nobody takes): said, not left waiting.
    req.once('close', () => answered || reject(new BurrowError(ErrorCode.LocalFailed, `replay to ${url.origin} failed: the connection closed without an answer`)));
    if (plan.trailers.length > 0) {
      req.write(plan.body);
      req.addTrailers(plan.trailers.map(([name, value]): [string, string] => [name, value]));
      req.end();
    } else req.end(plan.body);
  });
}

/** NAME.localhost is the loopback edge by definition (RFC 6761), whatever a resolver says. */
export function edgeHost(url: URL): string {
  return url.hostname.endsWith('.localhost') ? '127.0.0.1' : url.hostname;
}

/** HOST:PORT to connect to for a public URL (see edgeHost), the port the scheme's when none is given. */
export function edgeAddress(url: URL): string {
  return `${edgeHost(url)}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
}
