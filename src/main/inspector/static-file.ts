// A file of the built renderer sent as a response. The file is opened before
// the status goes: one that went away since it was found (the UI rebuilt while
// a tab reloads) is a 404, never an error nobody listens for.
import { createReadStream } from 'node:fs';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export function sendStaticFile(res: ServerResponse, file: string, headers: OutgoingHttpHeaders): void {
  const stream = createReadStream(file);
  stream.once('error', () => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  });
  stream.once('open', () => {
    res.writeHead(200, headers);
    stream.pipe(res);
  });
  res.once('close', () => stream.destroy());
}
