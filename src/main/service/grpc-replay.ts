// Sends a recorded gRPC call that had one request message (unary or server
// streaming) again, through the tunnel's public URL as public traffic, with
// its metadata and marked as a replay of its original; and the same call as
// a grpcurl command.
import * as grpc from '@grpc/grpc-js';
import type { GrpcDecoding, RequestDetail } from '../../shared/contract.js';
import { BurrowError, ErrorCode } from '../../shared/error-codes.js';
import { replayOfHeader, type HeaderPair } from '../../shared/traffic.js';
import { rawBytes } from './raw-grpc-method.js';
import { inflateGrpcMessage } from './decompress.js';
import { edgeAddress } from './replay.js';
import type { KeptMessage } from './traffic-log.js';

const replayTimeoutMs = 60_000;

/** Made by the gRPC client for the new call, or not metadata at all. */
const remadeMetadata = new Set(['host', 'content-type', 'content-length', 'te', 'user-agent', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'connection', replayOfHeader]);

/** Metadata the caller set, which a new call sends again. */
const isCallerMetadata = ([name]: HeaderPair): boolean => !remadeMetadata.has(name.toLowerCase()) && !name.startsWith(':');

export interface GrpcReplayPlan {
  /** HOST:PORT of the edge's public listener. */
  address: string;
  authority: string;
  secure: boolean;
  path: string;
  metadata: HeaderPair[];
  message: Buffer;
}

/** The call's one request message and its metadata; refuses what cannot be sent as it was. */
export function grpcReplayPlan(original: RequestDetail, kept: readonly KeptMessage[], origin: string, mark = original.requestId): GrpcReplayPlan {
  if (original.protocol !== 'grpc') throw new BurrowError(ErrorCode.InvalidInput, `not a gRPC call (this is ${original.protocol})`);
  const requests = kept.filter((message) => message.view.direction === 'to-service');
  const sentCount = original.messages.filter((message) => message.direction === 'to-service').length;
  if (requests.length !== 1 || sentCount !== 1 || original.messagesTruncated) {
    throw new BurrowError(ErrorCode.InvalidInput, `only a call with one request message (unary or server streaming) can be replayed; this one sent ${sentCount}`);
  }
  const [{ view, data }] = requests as [KeptMessage];
  if (data.length < view.size) throw new BurrowError(ErrorCode.InvalidInput, `cannot replay: the inspector kept ${data.length} of the message's ${view.size} bytes`);
  const url = new URL(origin);
  return {
    address: edgeAddress(url),
    authority: url.host,
    secure: url.protocol === 'https:',
    path: original.path,
    metadata: [...original.requestHeaders.filter(isCallerMetadata), [replayOfHeader, mark]],
    // Sent again uncompressed: the new call names no grpc-encoding.
    message: view.compressed === true ? uncompressed(data, original.requestHeaders) : data,
  };
}

function uncompressed(data: Buffer, headers: readonly HeaderPair[]): Buffer {
  try {
    return inflateGrpcMessage(data, headers);
  } catch (error) {
    throw new BurrowError(ErrorCode.InvalidInput, `cannot replay: ${(error as Error).message}`);
  }
}

/** Sends the plan and reads every answer; resolves with the call's gRPC status. */
export async function sendGrpcReplay(plan: GrpcReplayPlan): Promise<number> {
  const credentials = plan.secure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
  const client = new grpc.Client(plan.address, credentials, { 'grpc.default_authority': plan.authority, ...(plan.secure && { 'grpc.ssl_target_name_override': plan.authority.replace(/:\d+$/, '') }) });
  const metadata = new grpc.Metadata();
  for (const [name, value] of plan.metadata) {
    try {
      metadata.add(name, name.endsWith('-bin') ? Buffer.from(value, 'base64') : value);
    } catch (error) {
      throw new BurrowError(ErrorCode.InvalidInput, `metadata ${name}: ${(error as Error).message}`);
    }
  }
  try {
    // Unary and server-streaming calls look the same on the wire: one message out, any number back.
    const call = client.makeServerStreamRequest(plan.path, rawBytes, rawBytes, plan.message, metadata, { deadline: Date.now() + replayTimeoutMs });
    return await new Promise<number>((resolve) => {
      call.on('data', () => undefined);
      call.on('error', () => undefined);
      call.on('status', (status: grpc.StatusObject) => resolve(status.code));
    });
  } finally {
    client.close();
  }
}

/** The call as a grpcurl command: its request as JSON needs a schema (reflection through the tunnel, or the .proto). */
export async function grpcurlCommand(original: RequestDetail, decoding: GrpcDecoding, origin: string): Promise<{ snippet: string; warning?: string }> {
  // httpsnippet's shell quoting, loaded with it on the first snippet (see request-snippet.ts).
  const { quote } = await import('httpsnippet/dist/helpers/shell.js');
  const url = new URL(origin);
  const request = decoding.messages.filter((message) => message.direction === 'to-service');
  const args = ['grpcurl'];
  if (url.protocol !== 'https:') args.push('-plaintext');
  args.push('-authority', quote(url.host));
  let warning: string | undefined;
  if (decoding.schema.source === 'file') {
    args.push('-proto', quote(decoding.schema.detail));
    warning = `run it where ${decoding.schema.detail} is (add -import-path for its imports)`;
  } else if (decoding.schema.source === 'none') {
    warning = 'no schema: grpcurl needs the service to serve reflection, or its .proto (-proto); the request is left out';
  }
  for (const [name, value] of original.requestHeaders.filter(isCallerMetadata)) args.push('-H', quote(`${name}: ${value}`));
  const json = request.map((message) => message.json);
  if (json.length > 0 && json.every((text) => text !== undefined)) {
    // grpcurl reads a stream of JSON messages from -d.
    args.push('-d', quote(json.map((text) => JSON.stringify(JSON.parse(text!))).join('\n')));
  } else if (warning === undefined && json.length > 0) {
    warning = 'a request message did not fit the schema: it is left out';
  }
  args.push(quote(edgeAddress(url)), quote(original.path.replace(/^\//, '')));
  return { snippet: args.join(' '), ...(warning !== undefined && { warning }) };
}
