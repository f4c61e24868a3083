// gRPC methods over raw bytes: callers send and receive any payload, with no
// .proto and no codegen (the demo backend, the benchmark, tests).

/** The (de)serializer of a raw method: the bytes as they are. */
export const rawBytes = (value: Buffer): Buffer => value;

/** A method definition for grpc-js whose messages are the bytes as given. */
export function rawMethod(path: string, requestStream: boolean, responseStream: boolean) {
  return { path, requestStream, responseStream, requestSerialize: rawBytes, requestDeserialize: rawBytes, responseSerialize: rawBytes, responseDeserialize: rawBytes };
}
