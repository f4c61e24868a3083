// Asks a gRPC service for its own schema by server reflection, as grpcurl
// does: grpc.reflection.v1, else v1alpha for older servers. Only the few
// fields used are encoded, with @bufbuild/protobuf's wire codec.
import * as grpc from '@grpc/grpc-js';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { rawBytes } from './raw-grpc-method.js';

const reflectionPaths = ['/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo'];

/** ServerReflectionRequest: file_by_filename = 3, file_containing_symbol = 4. */
type ReflectionQuery = { fileByName: string } | { fileContainingSymbol: string };

interface ReflectionAnswer {
  files: Uint8Array[];
  error?: { code: number; message: string };
}

function encodeQuery(query: ReflectionQuery): Buffer {
  const writer = new BinaryWriter();
  if ('fileByName' in query) writer.tag(3, WireType.LengthDelimited).string(query.fileByName);
  else writer.tag(4, WireType.LengthDelimited).string(query.fileContainingSymbol);
  return Buffer.from(writer.finish());
}

/** ServerReflectionResponse: file_descriptor_response = 4 (its file_descriptor_proto = 1), error_response = 7. */
function decodeAnswer(bytes: Buffer): ReflectionAnswer {
  const answer: ReflectionAnswer = { files: [] };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 4 && wireType === WireType.LengthDelimited) {
      const inner = new BinaryReader(reader.bytes());
      while (inner.pos < inner.len) {
        const [innerField, innerType] = inner.tag();
        if (innerField === 1 && innerType === WireType.LengthDelimited) answer.files.push(inner.bytes());
        else inner.skip(innerType);
      }
    } else if (field === 7 && wireType === WireType.LengthDelimited) {
      const inner = new BinaryReader(reader.bytes());
      const error = { code: 0, message: '' };
      while (inner.pos < inner.len) {
        const [innerField, innerType] = inner.tag();
        if (innerField === 1 && innerType === WireType.Varint) error.code = inner.int32();
        else if (innerField === 2 && innerType === WireType.LengthDelimited) error.message = inner.string();
        else inner.skip(innerType);
      }
      answer.error = error;
    } else {
      reader.skip(wireType);
    }
  }
  return answer;
}

/** One reflection stream: queries answered in order. */
class ReflectionStream {
  private readonly waiting: { resolve(answer: ReflectionAnswer): void; reject(error: Error): void }[] = [];
  private failure: Error | undefined;

  constructor(private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>) {
    call.on('data', (bytes: Buffer) => this.waiting.shift()?.resolve(decodeAnswer(bytes)));
    call.on('error', (error: Error) => this.fail(error));
    call.on('end', () => this.fail(new Error('the reflection stream ended')));
  }

  ask(query: ReflectionQuery): Promise<ReflectionAnswer> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.call.write(encodeQuery(query));
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}

/**
 * The files describing `service` and everything they import, from the
 * service at `target` (HOST:PORT, cleartext). Rejects with the reason when
 * the service offers no reflection or does not know the service.
 */
export async function reflectServiceFiles(target: string, service: string, timeoutMs = 3_000): Promise<FileDescriptorProto[]> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  try {
    for (const path of reflectionPaths) {
      try {
        return await filesOver(client, path, service, Date.now() + timeoutMs);
      } catch (error) {
        // Only an older server (v1alpha only) is worth the second try.
        if ((error as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) throw error;
      }
    }
    throw new Error('the service does not serve reflection (grpc.reflection.v1 or v1alpha)');
  } finally {
    client.close();
  }
}

async function filesOver(client: grpc.Client, path: string, service: string, deadline: number): Promise<FileDescriptorProto[]> {
  const call = client.makeBidiStreamRequest(path, rawBytes, rawBytes, new grpc.Metadata(), { deadline });
  const stream = new ReflectionStream(call);
  try {
    const files = new Map<string, FileDescriptorProto>();
    /** Well-known imports the server would not send: the schema has its own copies. */
    const skipped = new Set<string>();
    const take = (answer: ReflectionAnswer, asked: string): void => {
      if (answer.error !== undefined) throw new Error(`reflection knows no ${asked}: ${answer.error.message || `error ${answer.error.code}`}`);
      for (const bytes of answer.files) {
        const file = fromBinary(FileDescriptorProtoSchema, bytes);
        files.set(file.name, file);
      }
    };
    take(await stream.ask({ fileContainingSymbol: service }), service);
    // Servers may send a file without the files it imports; ask for those by name.
    for (let missing = missingImports(files, skipped); missing.length > 0; missing = missingImports(files, skipped)) {
      for (const name of missing) {
        const answer = await stream.ask({ fileByName: name });
        if (!files.has(name) && name.startsWith('google/protobuf/') && answer.files.length === 0) {
          skipped.add(name);
          continue;
        }
        take(answer, name);
        if (!files.has(name)) throw new Error(`reflection did not send ${name}`);
      }
    }
    return [...files.values()];
  } finally {
    call.end();
    call.cancel();
  }
}

function missingImports(files: ReadonlyMap<string, FileDescriptorProto>, skipped: ReadonlySet<string>): string[] {
  const missing = new Set<string>();
  for (const file of files.values()) for (const name of file.dependency) if (!files.has(name) && !skipped.has(name)) missing.add(name);
  return [...missing];
}
