// The body Edit and resend sends. Left as it was shown, none: main sends the
// recorded bytes, exactly (a binary body, CRLF line ends, which a textarea
// turns into LF) or refuses a body the log did not keep whole, as Replay
// does; the form showed only its text, or nothing of a binary one, and sent
// that (an upload went empty, a cut JSON went cut).
import type { BodyPreview } from '../../../shared/contract.js';

const lf = (text: string): string => text.replace(/\r\n/g, '\n');

/** `shown` is the recorded body as text (undefined when it is not text); `edited` what the form holds now. */
export function resendBody(shown: string | undefined, edited: string): string | undefined {
  if (lf(edited) === lf(shown ?? '')) return undefined;
  // A body whose lines all ended in CRLF (a multipart form, say) keeps them: the textarea gave LF.
  const crlf = shown !== undefined && shown.includes('\r\n') && !/(^|[^\r])\n/.test(shown);
  return crlf ? lf(edited).replace(/\n/g, '\r\n') : edited;
}

/** What the form says of a body it cannot show whole, or nothing. */
export function resendBodyNote(body: BodyPreview, shown: string | undefined): string | undefined {
  if (body.released) return `the body (${body.totalBytes} bytes) was let go: type one to send, or Send is refused`;
  if (body.truncated) return `only the first ${keptBytes(body)} of ${body.totalBytes} bytes were kept: left as it is, Send is refused`;
  if (shown === undefined && body.totalBytes > 0) return `binary body (${body.totalBytes} bytes): sent as recorded unless you type another`;
  return undefined;
}

/** Bytes in a base64 text. */
function keptBytes(body: BodyPreview): number {
  const padding = body.base64.endsWith('==') ? 2 : body.base64.endsWith('=') ? 1 : 0;
  return (body.base64.length / 4) * 3 - padding;
}
