// The URL a recorded request was sent to: its tunnel's origin and its path.
// Never `new URL(path, origin)`: a path of `//HOST/x` (or `/\HOST/x`), which
// any public client may send, is relative to the scheme there and names
// another host, so replays and snippets would go elsewhere, with the
// original's cookies; and `//[` is no URL at all.
import { requestTargetUrl } from '../tunnel/request-target-url.js';

/** A path a URI holds as it was sent, dot segments too: visible ASCII from its first `/`. */
export function writtenAsSent(path: string): boolean {
  return /^\/[\x21-\x7e]*$/.test(path);
}

export function requestUrl(origin: string, path: string): URL {
  return requestTargetUrl(path.startsWith('/') ? path : `/${path}`, origin) ?? new URL(`${origin}/${encodeURIComponent(path)}`);
}
