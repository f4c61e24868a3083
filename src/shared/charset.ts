// The charset a Content-Type names: one reading of it for the inspector,
// which shows a body decoded by it, and for main, which writes an edit of
// that body back in it (service/text-in-charset.ts): were they to read it
// differently, an edit would reach the service in another charset.

/** The label after `charset=` (`text/plain; charset="iso-8859-1"`), or undefined. */
export function charsetLabel(contentType: string | undefined): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1];
}
