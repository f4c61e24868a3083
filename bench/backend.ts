// The benchmark's local service, run as its own process so it never shares
// an event loop with the load: HTTP (small, sized and streamed bodies, an
// upload sink), WebSocket echo on the same port, and a raw-bytes gRPC echo.
// Prints {"http":PORT,"grpc":PORT} once listening.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { WebSocketServer } from 'ws';
import { benchEchoService } from './grpc-service.js';

const chunk = Buffer.alloc(64 * 1024, 'b');
const oneMiB = Buffer.alloc(1024 * 1024, 'm');

const http = createServer((req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'POST') {
    let size = 0;
    req.on('data', (data: Buffer) => (size += data.length));
    req.on('end', () => res.end(String(size)));
    return;
  }
  if (url === '/small') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('ok');
    return;
  }
  if (url === '/1mib') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': oneMiB.length });
    res.end(oneMiB);
    return;
  }
  const stream = /^\/stream\/(\d+)$/.exec(url);
  if (stream) {
    // Generated as it goes, honouring backpressure: memory stays flat however large.
    let left = Number(stream[1]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
    const pump = (): void => {
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
    return;
  }
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));

const rpc = new grpc.Server();
rpc.addService(benchEchoService, {
  unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request),
  // The request's first 4 bytes say how many copies of the rest to stream back.
  serverStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    let left = call.request.readUInt32BE(0);
    const body = call.request.subarray(4);
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!call.write(body)) return void call.once('drain', pump);
      }
      call.end();
    };
    pump();
  },
});

http.listen(0, '127.0.0.1', () => {
  rpc.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, grpcPort) => {
    if (error) throw error;
    process.stdout.write(`${JSON.stringify({ http: (http.address() as AddressInfo).port, grpc: grpcPort })}\n`);
  });
});
