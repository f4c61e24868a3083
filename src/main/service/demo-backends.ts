// Local services to tunnel to when trying Burrow out: an HTTP echo (with a
// WebSocket echo on the same port) and a gRPC echo that serves its schema
// by server reflection, so the inspector shows its messages decoded.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { create, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { WebSocketServer } from 'ws';
import { schemaFromProtoSource } from './grpc-schema.js';
import { rawMethod } from './raw-grpc-method.js';

export interface DemoBackends {
  /** HTTP echo; WebSocket upgrades on any path echo every message. */
  httpPort: number;
  /** gRPC service burrow.demo.Echo (see demoEchoProto), with server reflection. */
  grpcPort: number;
  close(): Promise<void>;
}

/** The demo gRPC service's schema, served by reflection. */
export const demoEchoProto = `syntax = "proto3";
package burrow.demo;

// What the echo takes and gives back.
message EchoMessage {
  string text = 1;
  // Set on each answer of ServerStream: 0, 1, 2...
  int32 sequence = 2;
}

service Echo {
  rpc Unary(EchoMessage) returns (EchoMessage);
  rpc ServerStream(EchoMessage) returns (stream EchoMessage);
  rpc Bidi(stream EchoMessage) returns (stream EchoMessage);
}
`;

/** Over raw bytes: the echo sends back what it got, so callers may send any payload, EchoMessage or not. */
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
        // A field appended to an encoded message replaces its value: the echo with sequence set.
        call.write(Buffer.concat([call.request, new BinaryWriter().tag(2, WireType.Varint).int32(sent).finish()]));
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
  await addReflection(rpc);
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

/** Serves grpc.reflection.v1 and v1alpha for the demo's schema (@grpc/reflection), loaded only for the demo. */
async function addReflection(server: grpc.Server): Promise<void> {
  const [{ ReflectionService }, protoLoader, schema] = await Promise.all([import('@grpc/reflection'), import('@grpc/proto-loader'), schemaFromProtoSource('burrow/demo/echo.proto', demoEchoProto)]);
  const descriptorSet = toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: schema.files }));
  new ReflectionService(protoLoader.loadFileDescriptorSetFromBuffer(Buffer.from(descriptorSet))).addToServer(server);
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
