// The memory floor of a Node tunnel process: node with only the libraries
// Burrow's command loads at start (arguments, gRPC, WebSocket, logging,
// protobuf) and none of Burrow's own code. Prints "ready", then idles until
// stopped. Plain JavaScript so that tsx adds nothing.
await Promise.all(['commander', '@grpc/grpc-js', 'ws', 'pino', '@bufbuild/protobuf'].map((name) => import(name)));
process.stdout.write('ready\n');
setInterval(() => {}, 60_000);
