// A recorded request as code to send it again: curl, fetch or HTTPie, made
// by httpsnippet from the request's HAR form. httpsnippet (~120 modules with
// its dependencies) loads on the first snippet asked for, not with every
// server and agent.
//
// httpsnippet writes what a HAR describes, not always what was sent: it
// decodes a URL's query and encodes it again (`%FF` became `%EF%BF%BD`),
// refuses some a client sent (`%zz`, `[`), sends a form body only from the
// fields HAR may list (and none without them), keeps one of each header,
// and a body that starts with `@` made curl read a local file. So the URL
// goes in afterwards, the body goes as recorded, headers sent more than
// once go as one line (RFC 9110 section 5.3), and the body's flags are
// ones that send it as it is.
import { randomUUID } from 'node:crypto';
import type { Header } from 'har-format';
import type { RequestDetail, SnippetTarget } from '../../shared/contract.js';
import { binaryBodyComment, bodyShortfall, harRequest, recomputedHeaders } from './har.js';

const targets: Record<HttpSnippetTarget, [target: 'shell' | 'javascript', client: string]> = {
  curl: ['shell', 'curl'],
  httpie: ['shell', 'httpie'],
  fetch: ['javascript', 'fetch'],
};

export type HttpSnippetTarget = Exclude<SnippetTarget, 'grpcurl'>;

export function isSnippetTarget(value: unknown): value is SnippetTarget {
  return value === 'grpcurl' || isHttpSnippetTarget(value);
}

export function isHttpSnippetTarget(value: unknown): value is HttpSnippetTarget {
  return typeof value === 'string' && Object.hasOwn(targets, value);
}


export async function requestSnippet(detail: RequestDetail, target: HttpSnippetTarget, origin?: string): Promise<{ snippet: string; warning?: string }> {
  const { HTTPSnippet } = await import('httpsnippet');
  const [language, client] = targets[target];
  const request = harRequest(detail, origin);
  // Where httpsnippet writes the URL and the body, each put in afterwards: new each time, so that no
  // recorded header can hold one (the URL put in there would end the header's quotes).
  const standIn = `burrow-snippet-${randomUUID()}`;
  const urlStandIn = `http://${standIn}.invalid/url`;
  const bodyStandIn = `${standIn}-body`;
  const binary = request.postData?.comment === binaryBodyComment;
  const body = binary ? '' : (request.postData?.text ?? '');
  // A type httpsnippet has no rules for, so that it writes the stand-in as it is (the Content-Type header still says what the body is).
  const postData = { mimeType: 'application/octet-stream', text: body === '' ? '' : bodyStandIn };
  // The path as the client sent it (a URL object would encode some of it); `OPTIONS *` has none to send, so the URL's.
  const url = detail.path.startsWith('/') ? `${new URL(request.url).origin}${detail.path}` : request.url;
  // curl reads [] and {} in a URL as ranges and sets unless told not to.
  const options = { globOff: /[[\]{}]/.test(url) };
  // HTTPie's lines hold a header's name unquoted: a name with shell syntax, which a token may hold (`x\`touch$IFS~f\``,
  // from any client of the tunnel), ran as a command when pasted. Such names go in afterwards, quoted.
  const quotedNames = new Map<string, string>();
  const headers = oneLineEach(request.headers.filter(({ name }) => !recomputedHeaders.has(name.toLowerCase()))).map((header) => {
    if (target !== 'httpie' || /^[A-Za-z0-9_.-]+$/.test(header.name)) return header;
    // Ended by letters, so that no stand-in is the start of another (-1-name, -10-name).
    const nameStandIn = `${standIn}-${quotedNames.size}-name`;
    quotedNames.set(nameStandIn, header.name);
    return { ...header, name: nameStandIn };
  });
  // No cookies: httpsnippet would write them again from HAR's parsed list, encoded anew, beside the Cookie header as sent.
  const converted = new HTTPSnippet({ ...request, url: urlStandIn, queryString: [], cookies: [], headers, postData }).convert(language as never, client, options);
  let written = Array.isArray(converted) ? converted.join('\n') : converted || '';
  for (const [nameStandIn, name] of quotedNames) written = putIn(written, nameStandIn, shellQuoted(name));
  const dotSegments = hasDotSegments(detail.path);
  const snippet = putIn(putIn(asTheClientSent(written, target, dotSegments), urlStandIn, target === 'fetch' ? inJsQuotes(url) : shellQuoted(url)), bodyAsWritten[target](bodyStandIn), bodyAsSent[target](body));
  const shortfall = bodyShortfall(detail.requestBody);
  const warning = binary
    ? 'binary body: not carried'
    : shortfall
      ? `${shortfall}: the snippet sends only those`
      : dotSegments && target === 'fetch'
        ? 'fetch resolves the path\'s . and .. segments before sending it'
        : target === 'curl'
          ? obsTextWarning(detail)
          : undefined;
  return warning === undefined ? { snippet } : { snippet, warning };
}

/**
 * A header value's bytes past ASCII (obs-text, kept as Latin-1 characters):
 * the shell line holds them as UTF-8 text, and curl sends that (é went as
 * two bytes, C3 A9, where the client sent E9). fetch sends them as bytes.
 */
function obsTextWarning(detail: RequestDetail): string | undefined {
  const name = detail.requestHeaders.find(([, value]) => /[\x80-\xff]/.test(value))?.[0];
  return name === undefined ? undefined : `the ${name} header has bytes past ASCII: this line sends them as UTF-8`;
}

/**
 * A path with `.` or `..` segments, which clients resolve unless told not to
 * (RFC 3986 section 5.2.4); fetch (WHATWG URL) reads `%2e` as a dot too. Not
 * in the query, which no client resolves.
 */
function hasDotSegments(path: string): boolean {
  return /\/(?:\.|%2e){1,2}(?:\/|$)/i.test(path.split('?', 1)[0]!);
}

/**
 * The command line as the recorded request went (no cookie twice, empty headers sent): curl's `--request HEAD`
 * waits for a body a HEAD answer never has (until the server closes), where
 * `--head` does not; curl and HTTPie resolve dot segments unless told not to.
 */
function asTheClientSent(written: string, target: HttpSnippetTarget, dotSegments: boolean): string {
  if (target === 'curl') {
    // httpsnippet writes a cookie header sent as `cookie` (as HTTP/2 names it) again as --cookie: the header goes as sent.
    const head = emptyHeadersKept(written, target).replace(/^curl --request HEAD\b/, 'curl --head').replace(/ \\\n *--cookie (?:'(?:[^']|'\\'')*'|[^\s']+)(?=$| \\\n)/, '');
    return dotSegments ? head.replace(/^curl /, 'curl --path-as-is ') : head;
  }
  if (target === 'httpie') {
    const kept = emptyHeadersKept(written, target);
    return dotSegments ? kept.replace(/^http /, 'http --path-as-is ') : kept;
  }
  return written;
}

/** A header sent empty: curl and HTTPie read `Name:` with no value as "do not send it", and `Name;` as sent empty. */
function emptyHeadersKept(written: string, target: 'curl' | 'httpie'): string {
  return target === 'curl' ? written.replace(/--header '([^':]+): '(?=$| \\$)/gm, "--header '$1;'") : written.replace(/^( +)([^\s:'=@]+):''(?=$| \\$)/gm, '$1$2;');
}

/**
 * `text` with `value` where `standIn` is. Not String.replace: a replacement
 * string reads `$&` and `$'` in the client's path as patterns, which put the
 * snippet's own quotes into the URL (and a header's `$(command)` ran).
 */
function putIn(text: string, standIn: string, value: string): string {
  const at = text.indexOf(standIn);
  return at < 0 ? text : text.slice(0, at) + value + text.slice(at + standIn.length);
}

/** Headers sent more than once as one line of their values, where the first was; a cookie's joined by `; `. */
function oneLineEach(headers: Header[]): Header[] {
  const byName = new Map<string, Header>();
  for (const { name, value } of headers) {
    const lower = name.toLowerCase();
    const first = byName.get(lower);
    if (first === undefined) byName.set(lower, { name, value });
    else first.value += `${lower === 'cookie' ? '; ' : ', '}${value}`;
  }
  return [...byName.values()];
}

/** How httpsnippet writes a body (the stand-in, which needs no quotes), for each target. */
const bodyAsWritten: Record<HttpSnippetTarget, (standIn: string) => string> = {
  curl: (standIn) => `--data ${standIn}`,
  httpie: (standIn) => `echo ${standIn}`,
  fetch: (standIn) => standIn,
};

/**
 * The body as each target sends it as it is: curl reads `--data @NAME` as a
 * file to send, `echo` adds a newline, and httpsnippet left backslashes in a
 * fetch's body unescaped (`a\nb` sent a newline).
 */
const bodyAsSent: Record<HttpSnippetTarget, (body: string) => string> = {
  curl: (body) => `--data-raw ${shellQuoted(body)}`,
  httpie: (body) => `printf %s ${shellQuoted(body)}`,
  fetch: (body) => inJsQuotes(body),
};

/** In single quotes for a POSIX shell. */
const shellQuoted = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

/** Escaped for a JavaScript string in single quotes (where httpsnippet put the URL). */
const inJsQuotes = (text: string): string => JSON.stringify(text).slice(1, -1).replaceAll("'", "\\'");
