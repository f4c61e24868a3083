// Header lists as ordered name/value pairs, and the hop-by-hop headers a proxy
// must not forward (RFC 9110 section 7.6.1). Trailer is not among them: it
// announces trailers that travel end to end (section 6.6.2).
import type { Header } from '../gen/burrow/v1/tunnel.js';
import { isForwardedField } from './forwarded-field-names.js';

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'transfer-encoding',
  'upgrade',
]);

/** Fields that frame or route a message, which a trailer section must not carry (RFC 9110 section 6.5.1). */
const framingFields = new Set(['content-length', 'trailer', 'host']);

/** Whether a trailer may go on: not one a client would take for the body's length or end (Node cut such a response short). */
export function allowedInTrailers(name: string): boolean {
  const lower = name.toLowerCase();
  return !framingFields.has(lower) && !hopByHop.has(lower);
}

/**
 * A client's request trailers as they may reach a service: none that frames
 * or routes the message, and none that says who the client is, which only a
 * trusted proxy may add to the head (a service that merges trailers into
 * its headers would believe them).
 */
export function forwardableRequestTrailers(trailers: readonly Header[]): Header[] {
  return trailers.filter(({ name }) => allowedInTrailers(name) && !isForwardedField(name));
}

/** Turns Node's flat rawHeaders into pairs, dropping hop-by-hop ones and any the Connection header names. */
export function headersFromRaw(rawHeaders: readonly string[]): Header[] {
  return withoutHopByHop(allHeadersFromRaw(rawHeaders));
}

/** Every pair of Node's flat rawHeaders, hop-by-hop ones included (what a WebSocket handshake shows in full). */
export function allHeadersFromRaw(rawHeaders: readonly string[]): Header[] {
  const headers: Header[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) headers.push({ name: rawHeaders[i], value: rawHeaders[i + 1] });
  return headers;
}

/** The headers without hop-by-hop ones and any the Connection header names. */
export function withoutHopByHop(headers: readonly Header[]): Header[] {
  const connectionListed = new Set<string>();
  for (const { name, value } of headers) {
    if (name.toLowerCase() === 'connection') for (const token of value.split(',')) connectionListed.add(token.trim().toLowerCase());
  }
  return headers.filter(({ name }) => {
    const lower = name.toLowerCase();
    return !hopByHop.has(lower) && !connectionListed.has(lower);
  });
}

/** Node's flat [name, value, name, value...] form, as http.request and writeHead accept. */
export function headersToRaw(headers: readonly Header[]): string[] {
  const raw: string[] = [];
  for (const { name, value } of headers) raw.push(name, value);
  return raw;
}

/** The first value of `lowerName` in Node's flat [name, value, ...] list. */
export function rawHeaderValue(raw: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === lowerName) return raw[i + 1];
  return undefined;
}

export function headerValue(headers: readonly Header[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === lower)?.value;
}

/** HTTP/2 pseudo-headers and connection-specific headers, which each hop sets itself. */
export function isHttp2HopHeader(name: string): boolean {
  return name.startsWith(':') || hopByHop.has(name.toLowerCase()) || name.toLowerCase() === 'host';
}

/** Header pairs from an HTTP/2 flat raw list, without pseudo-headers and connection-specific ones. */
export function headersFromHttp2Raw(rawHeaders: readonly string[]): Header[] {
  const headers: Header[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!isHttp2HopHeader(rawHeaders[i])) headers.push({ name: rawHeaders[i], value: rawHeaders[i + 1] });
  }
  return headers;
}

/** An HTTP/2 header object; repeated names become arrays, in order. */
export function headersToObject(headers: readonly Header[]): Record<string, string | string[]> {
  const object: Record<string, string | string[]> = {};
  for (const { name, value } of headers) {
    const key = name.toLowerCase();
    if (isHttp2HopHeader(key)) continue;
    const existing = object[key];
    if (existing === undefined) object[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else object[key] = [existing, value];
  }
  return object;
}
