// Local services to tunnel to when trying Burrow out: an HTTP echo (with a
// WebSocket echo on the same port) and a gRPC echo that needs no .proto.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { WebSocketServer } from 'ws';
import { rawMethod } from './raw-grpc-method.js';

export interface DemoBackends {
  /** HTTP echo; WebSocket upgrades on any path echo every message. */
  httpPort: number;
  /** gRPC service burrow.demo.Echo with Unary, ServerStream and Bidi methods over raw bytes. */
  grpcPort: number;
  close(): Promise<void>;
}

/** A raw-bytes definition: callers can send any payload, no .proto needed. */
export const demoEchoService = {
  unary: rawMethod('/burrow.demo.Echo/Unary', false, false),
  serverStream: rawMethod('/burrow.demo.Echo/ServerStream', false, true),
  bidi: rawMethod('/burrow.demo.Echo/Bidi', true, true),
} satisfies grpc.ServiceDefinition;

export async function startDemoBackends(host = '127.0.0.1'): Promise<DemoBackends> {
  const http = createHttpEcho();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => http.listen(0, host, resolve));
  const rpc = new grpc.Server();
  rpc.addService(demoEchoService, {
    unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request),
    // Echoes the request five times, a little apart, so a stream is visible in the inspector.
    serverStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      let sent = 0;
      const timer = setInterval(() => {
        call.write(Buffer.concat([Buffer.from(`${sent}: `), call.request]));
        if (++sent === 5) {
          clearInterval(timer);
          call.end();
        }
      }, 100);
      call.on('cancelled', () => clearInterval(timer));
    },
    bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (message: Buffer) => call.write(message));
      call.on('end', () => call.end());
    },
  });
  const grpcPort = await new Promise<number>((resolve, reject) =>
    rpc.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
  );
  return {
    httpPort: (http.address() as AddressInfo).port,
    grpcPort,
    close: async () => {
      rpc.forceShutdown();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}

/** Echoes method, path and headers as JSON; POST/PUT bodies are streamed back as they arrive. */
function createHttpEcho(): Server {
  return createServer((req, res) => {
    if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
      req.pipe(res);
      return;
    }
    const body = JSON.stringify({ method: req.method, path: req.url, headers: req.headers, at: new Date().toISOString() }, null, 2);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
}
