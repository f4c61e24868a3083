// gRPC calls in the inspector decoded: each kept message as JSON by its
// method's type, with the schema from a file the user gave the tunnel, else
// from the local service's own reflection, else fields by number. A message
// sent compressed (grpc-encoding gzip or deflate) is inflated first.
import type { DecodedMessage, GrpcDecoding } from '../../shared/contract.js';
import { BurrowError, ErrorCode } from '../../shared/error-codes.js';
import type { HeaderPair } from '../../shared/traffic.js';
import { inflateGrpcMessage } from './decompress.js';
import { decodeRawProtobuf, decodeRawProtobufPrefix } from './protobuf-raw.js';
import type { GrpcSchema } from './grpc-schema.js';
import type { KeptMessage } from './traffic-log.js';
import type { TrafficRecorder } from './traffic-recorder.js';
import type { FileDescriptorProto } from '@bufbuild/protobuf/wkt';

/**
 * The schema code and the reflection client load when first needed: with
 * them comes all of protobuf's registry and descriptors (~6 MiB resident in
 * a bare Node), which an agent nobody asks to decode a call never uses.
 */
type SchemaCode = typeof import('./grpc-schema.js');
const schemaCode = (): Promise<SchemaCode> => import('./grpc-schema.js');
const reflectServiceFiles = async (target: string, service: string): Promise<FileDescriptorProto[]> => (await import('./grpc-reflection-client.js')).reflectServiceFiles(target, service);

/** How long a reflection answer is trusted; a failure is retried sooner (the service may be starting). */
const reflectedForMs = 60_000;
const failedForMs = 5_000;

interface Reflected {
  at: number;
  schema: Promise<GrpcSchema>;
  failed?: boolean;
}

export interface GrpcDecodingOptions {
  /** The local service a tunnel forwards to (HOST:PORT), when the tunnel is configured here. */
  targetOf(tunnel: string): string | undefined;
  /** Server reflection (swappable in tests). */
  reflect?: (target: string, service: string) => Promise<FileDescriptorProto[]>;
  now?: () => number;
}

/** Tunnels a loaded schema is kept for at most, the latest loaded. */
export const maxGivenSchemas = 64;

export class GrpcDecoder {
  private readonly given = new Map<string, { fileName: string; schema: GrpcSchema }>();
  private readonly reflections = new Map<string, Reflected>();
  private readonly reflect: (target: string, service: string) => Promise<FileDescriptorProto[]>;
  private readonly now: () => number;

  constructor(
    private readonly traffic: TrafficRecorder,
    private readonly options: GrpcDecodingOptions,
  ) {
    this.reflect = options.reflect ?? reflectServiceFiles;
    this.now = options.now ?? Date.now;
  }

  async loadSchema(input: { tunnel: string; fileName: string; base64: string }): Promise<{ fileName: string; services: string[] }> {
    if (typeof input?.tunnel !== 'string' || input.tunnel === '' || typeof input.fileName !== 'string' || typeof input.base64 !== 'string') {
      throw new BurrowError(ErrorCode.InvalidInput, 'give a tunnel, the file name and its bytes (base64)');
    }
    let schema: GrpcSchema;
    try {
      schema = await (await schemaCode()).schemaFromUserFile(input.fileName, Buffer.from(input.base64, 'base64'));
    } catch (error) {
      throw new BurrowError(ErrorCode.InvalidInput, (error as Error).message);
    }
    if (schema.services.length === 0) throw new BurrowError(ErrorCode.InvalidInput, `${input.fileName} describes no service`);
    // A name may be any (an imported HAR's tunnels are not configured here), so the oldest given goes past a bound:
    // schemas loaded for a thousand made-up names ran the agent out of memory.
    this.given.delete(input.tunnel);
    this.given.set(input.tunnel, { fileName: input.fileName, schema });
    if (this.given.size > maxGivenSchemas) this.given.delete(this.given.keys().next().value!);
    return { fileName: input.fileName, services: schema.services };
  }

  async decode(input: { requestId: string; refresh?: boolean }): Promise<GrpcDecoding> {
    if (typeof input?.requestId !== 'string') throw new BurrowError(ErrorCode.InvalidInput, 'give a requestId');
    const detail = this.traffic.detail(input.requestId);
    const kept = this.traffic.keptMessages(input.requestId);
    if (detail === null || kept === null) throw new BurrowError(ErrorCode.NotFound, `no request ${input.requestId} in the traffic log`);
    if (detail.protocol !== 'grpc') throw new BurrowError(ErrorCode.InvalidInput, `request ${input.requestId} is not a gRPC call`);
    const code = await schemaCode();
    const found = await this.schemaFor(code, detail.tunnel, detail.path, input.refresh === true);
    const headers = { 'to-service': detail.requestHeaders, 'to-client': detail.responseHeaders };
    return { schema: found.described, messages: kept.map((message) => decodeMessage(code, message, detail.path, found.schema, headers[message.view.direction])) };
  }

  private async schemaFor({ methodOf }: SchemaCode, tunnel: string, path: string, refresh: boolean): Promise<{ schema?: GrpcSchema; described: GrpcDecoding['schema'] }> {
    const given = this.given.get(tunnel);
    if (given !== undefined && methodOf(given.schema, path) !== undefined) return { schema: given.schema, described: { source: 'file', detail: given.fileName } };
    const service = /^\/([^/]+)\//.exec(path)?.[1];
    const target = this.options.targetOf(tunnel);
    const noSchema = (why: string) => ({ described: { source: 'none' as const, detail: given === undefined ? why : `${given.fileName} has no ${path}; ${why}` } });
    if (service === undefined) return noSchema(`${path} names no service`);
    if (target === undefined) return noSchema(`no local service to ask by reflection: tunnel ${tunnel} is not configured here`);
    try {
      const schema = await this.reflected(target, service, refresh);
      if (methodOf(schema, path) === undefined) return noSchema(`reflection on ${target} does not describe ${path}`);
      return { schema, described: { source: 'reflection', detail: `server reflection on ${target}` } };
    } catch (error) {
      return noSchema(`reflection on ${target}: ${(error as Error).message}`);
    }
  }

  /** One reflection per service and minute, shared by every call asking meanwhile. */
  private reflected(target: string, service: string, refresh: boolean): Promise<GrpcSchema> {
    const key = `${target} ${service}`;
    const cached = this.reflections.get(key);
    const age = cached === undefined ? Infinity : this.now() - cached.at;
    if (cached !== undefined && !refresh && age < (cached.failed ? failedForMs : reflectedForMs)) return cached.schema;
    const entry: Reflected = { at: this.now(), schema: this.reflect(target, service).then(async (files) => (await schemaCode()).schemaFromFiles(files)) };
    entry.schema.catch(() => (entry.failed = true));
    this.reflections.set(key, entry);
    return entry.schema;
  }
}

function decodeMessage({ messageAsJson }: SchemaCode, { view, data: kept }: KeptMessage, path: string, schema: GrpcSchema | undefined, headers: readonly HeaderPair[]): DecodedMessage {
  const decoded: DecodedMessage = { direction: view.direction, index: view.index };
  if (kept.length === 0 && view.size > 0) return { ...decoded, error: 'its bytes were not kept (the inspector keeps them for its latest requests)' };
  const cut = kept.length < view.size ? ` (only its first ${kept.length} of ${view.size} bytes were kept)` : '';
  let data = kept;
  if (view.compressed === true) {
    try {
      data = inflateGrpcMessage(kept, headers);
    } catch (error) {
      return { ...decoded, error: `${(error as Error).message}${cut}` };
    }
  }
  // Kept bytes that end between two fields decode as a whole message would: what is missing is said all the same.
  const missing = cut === '' ? {} : { error: `the fields after the cut are missing${cut}` };
  let schemaError: string | undefined;
  if (schema !== undefined) {
    try {
      return { ...decoded, json: messageAsJson(schema, path, view.direction, data), ...missing };
    } catch (error) {
      schemaError = `does not fit the schema's type: ${(error as Error).message}${cut}`;
    }
  }
  try {
    return { ...decoded, raw: decodeRawProtobuf(data), ...(schemaError !== undefined ? { error: schemaError } : missing) };
  } catch (error) {
    // Of a message cut short (not compressed: inflating needs it whole), the fields within what was kept.
    if (cut !== '' && view.compressed !== true) {
      try {
        return { ...decoded, raw: decodeRawProtobufPrefix(data, view.size), error: `decoded by field numbers up to the cut${cut}` };
      } catch {
        // Not even a first field: said as for any other.
      }
    }
    return { ...decoded, error: schemaError ?? `not a protobuf message: ${(error as Error).message}${cut}` };
  }
}
