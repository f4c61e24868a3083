// Raw-bytes gRPC services for the benchmark: no .proto, no codegen.
import type * as grpc from '@grpc/grpc-js';
import { rawMethod } from '../src/main/service/raw-grpc-method.js';

export const benchEchoService = {
  unary: rawMethod('/burrow.bench.Echo/Unary', false, false),
  serverStream: rawMethod('/burrow.bench.Echo/ServerStream', false, true),
} satisfies grpc.ServiceDefinition;
