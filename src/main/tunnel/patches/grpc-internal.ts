// A module of grpc-js's build that its package does not export, for the
// private patches (the version is pinned); undefined when it has moved.
import { createRequire } from 'node:module';

export function grpcInternal(path: string): Record<string, unknown> | undefined {
  try {
    return createRequire(import.meta.url)(`@grpc/grpc-js/build/src/${path}`) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
