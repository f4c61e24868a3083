// What Edit and resend sends as the body: nothing (the recorded bytes, or a
// refusal of a body not kept whole) unless the form's text was changed, and
// a changed CRLF body with its CRLFs (the HAR audit: a textarea gave LF, and
// a multipart form then failed to parse; a binary upload went empty).
import { describe, expect, it } from 'vitest';
import { resendBody, resendBodyNote } from '../../src/renderer/src/store/resend-body.js';

describe('resendBody', () => {
  it('sends nothing for a body left as shown, the textarea’s LF for CRLF included, so the recorded bytes go', () => {
    expect(resendBody('{"a":1}', '{"a":1}')).toBeUndefined();
    expect(resendBody('--b\r\na\r\n--b--\r\n', '--b\na\n--b--\n')).toBeUndefined();
    // A binary body is not shown: an empty form leaves it as recorded.
    expect(resendBody(undefined, '')).toBeUndefined();
  });

  it('sends an edited body, with CRLF line ends where all the recorded ones were', () => {
    expect(resendBody('--b\r\nname=hello\r\n--b--\r\n', '--b\nname=HELLO\n--b--\n')).toBe('--b\r\nname=HELLO\r\n--b--\r\n');
    expect(resendBody('a\nb', 'a\nc')).toBe('a\nc');
    expect(resendBody('a\r\nb\nc', 'a\nd')).toBe('a\nd');
    expect(resendBody(undefined, 'typed')).toBe('typed');
  });

  it('says what it cannot show: a cut body, one let go, a binary one', () => {
    const base64 = (bytes: number): string => Buffer.alloc(bytes).toString('base64');
    expect(resendBodyNote({ base64: base64(65_536), totalBytes: 200_000, truncated: true }, 'x')).toBe('only the first 65536 of 200000 bytes were kept: left as it is, Send is refused');
    expect(resendBodyNote({ base64: '', totalBytes: 10, truncated: false, released: true }, undefined)).toBe('the body (10 bytes) was let go: type one to send, or Send is refused');
    expect(resendBodyNote({ base64: base64(256), totalBytes: 256, truncated: false }, undefined)).toBe('binary body (256 bytes): sent as recorded unless you type another');
    expect(resendBodyNote({ base64: base64(5), totalBytes: 5, truncated: false }, 'hello')).toBeUndefined();
  });
});
