// Raw-bytes gRPC services for the benchmark: no .proto, no codegen.
import type * as grpc from '@grpc/grpc-js';

const raw = (value: Buffer): Buffer => value;

/** A method whose messages are the bytes as given. */
export const rawMethod = (path: string, requestStream: boolean, responseStream: boolean) => ({
  path,
  requestStream,
  responseStream,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
});

export const benchEchoService = {
  unary: rawMethod('/burrow.bench.Echo/Unary', false, false),
  serverStream: rawMethod('/burrow.bench.Echo/ServerStream', false, true),
} satisfies grpc.ServiceDefinition;
