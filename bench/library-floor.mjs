// The memory floor of a Node tunnel process: node with only the libraries
// Burrow's command loads at start (arguments, gRPC, WebSocket, logging and
// its text lines, protobuf's wire format), loaded as the bundled command
// loads them (required: scripts/commonjs-required.mjs), and none of Burrow's
// own code. Prints "ready", then idles until stopped. Plain JavaScript so
// that tsx adds nothing.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
for (const name of ['commander', '@grpc/grpc-js', 'ws', 'pino', 'pino-pretty', '@bufbuild/protobuf/wire']) require(name);
process.stdout.write('ready\n');
setInterval(() => {}, 60_000);
