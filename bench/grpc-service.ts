// A raw-bytes gRPC service for the benchmark: no .proto, no codegen.
import type * as grpc from '@grpc/grpc-js';

const raw = (value: Buffer): Buffer => value;
const method = (path: string, responseStream: boolean) => ({
  path,
  requestStream: false,
  responseStream,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
});

export const benchEchoService = {
  unary: method('/burrow.bench.Echo/Unary', false),
  serverStream: method('/burrow.bench.Echo/ServerStream', true),
} satisfies grpc.ServiceDefinition;
