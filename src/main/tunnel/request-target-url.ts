// The URL of an HTTP/1.1 request target on a local server of ours (the
// inspector, the admin endpoints). Node's parser lets targets through that
// are no URL (`GET http://[/`); and an origin-form target is a path, `//`
// too (a browser sends it), not a URL relative to the scheme.

/** The target's URL, or undefined when it is none. */
export function requestTargetUrl(target: string | undefined, origin: string): URL | undefined {
  const text = target ?? '/';
  const url = text.startsWith('/') ? `${origin}${text}` : text;
  return URL.canParse(url) ? new URL(url) : undefined;
}
