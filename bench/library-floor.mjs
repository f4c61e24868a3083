// The memory floor of a Node tunnel process: node with only the libraries
// Burrow's command loads at start (arguments, gRPC, WebSocket, logging and
// its text lines, protobuf's wire format) and none of Burrow's own code.
// Prints "ready", then idles until stopped. Plain JavaScript so that tsx adds
// nothing.
await Promise.all(['commander', '@grpc/grpc-js', 'ws', 'pino', 'pino-pretty', '@bufbuild/protobuf/wire'].map((name) => import(name)));
process.stdout.write('ready\n');
setInterval(() => {}, 60_000);
