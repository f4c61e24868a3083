// What the inspector does with recorded requests beyond showing them: export
// and import HAR, code snippets (grpcurl for gRPC), replay (HTTP as it was
// or edited, gRPC as it was). The commands of the contract that work on the
// traffic log; AppService hands them over.
import { randomUUID } from 'node:crypto';
import type { Har } from 'har-format';
import { harTooLarge, maxHarImportBytes, type BodyContent, type RequestDetail, type ReplayEdit, type ReplayResult, type RequestSnippet, type SnippetTarget } from '../../shared/contract.js';
import { BurrowError, ErrorCode } from '../../shared/error-codes.js';
import { headerPairValue, replayOfHeader } from '../../shared/traffic.js';
import { bodyContent } from './body-content.js';
import { decodedBytesPerExport, harEntry, toHar } from './har.js';
import { harToEvents, type HarImport } from './har-import.js';
import { replayPlan, sendReplay } from './replay.js';
import { isHttpSnippetTarget, isSnippetTarget, requestSnippet } from './request-snippet.js';
import type { GrpcDecoder } from './grpc-decoder.js';
import { grpcReplayPlan, grpcurlCommand, sendGrpcReplay } from './grpc-replay.js';
import type { TrafficRecorder } from './traffic-recorder.js';

/** Replays the inspector may have on their way at once: a script's thousands took the tunnel's whole share of the service. */
export const maxReplaysInFlight = 32;

const badIds = (ids: unknown): boolean => !Array.isArray(ids) || !ids.every((id) => typeof id === 'string');

export class RequestTools {
  private replaysInFlight = 0;

  constructor(
    private readonly traffic: TrafficRecorder,
    /** Where clients reach a tunnel (scheme, host, port), when it is registered. */
    private readonly publicOrigin: (tunnel: string) => string | undefined,
    private readonly grpcDecoder: GrpcDecoder,
  ) {}

  exportHar(input: { requestIds?: string[] }): Har {
    const ids = input?.requestIds ?? this.traffic.list(undefined).map((r) => r.requestId);
    if (badIds(ids)) throw new BurrowError(ErrorCode.InvalidInput, 'requestIds must be a list of request ids');
    // Each request once: an id given 40,000 times made as many entries, and the export ran the process out of memory.
    const details = [...new Set(ids)].map((id) => this.traffic.detail(id)).filter((detail) => detail !== null);
    const decoding = { bytesLeft: decodedBytesPerExport };
    return toHar(details.map((detail) => harEntry(detail, this.publicOrigin(detail.tunnel), this.traffic.keptMessages(detail.requestId) ?? [], decoding)));
  }

  importHar(input: { text: string }): { imported: number; skipped: string[] } {
    if (typeof input?.text !== 'string') throw new BurrowError(ErrorCode.InvalidInput, "give the HAR file's text");
    if (Buffer.byteLength(input.text) > maxHarImportBytes) throw new BurrowError(ErrorCode.InvalidInput, harTooLarge(Buffer.byteLength(input.text)));
    let parsed: HarImport;
    try {
      parsed = harToEvents(JSON.parse(input.text), this.traffic.maxRequests);
    } catch (error) {
      throw new BurrowError(ErrorCode.InvalidInput, `not a HAR file: ${(error as Error).message.replace(/^not a HAR file: /, '')}`);
    }
    this.traffic.addToLog(parsed.requests);
    return { imported: parsed.requests.length, skipped: parsed.skipped };
  }

  async getBody(input: { requestId: string; side: 'request' | 'response' }): Promise<BodyContent> {
    if (typeof input?.requestId !== 'string' || (input.side !== 'request' && input.side !== 'response')) {
      throw new BurrowError(ErrorCode.InvalidInput, 'give a requestId and a side: request or response');
    }
    const detail = this.recorded(input.requestId);
    return input.side === 'request' ? bodyContent(detail.requestBody, detail.requestHeaders) : bodyContent(detail.responseBody, detail.responseHeaders);
  }

  async requestSnippet(input: { requestId: string; target: SnippetTarget }): Promise<RequestSnippet> {
    if (typeof input?.requestId !== 'string' || !isSnippetTarget(input.target)) throw new BurrowError(ErrorCode.InvalidInput, 'give a requestId and a target: curl, fetch, httpie or grpcurl');
    const detail = this.recorded(input.requestId);
    const origin = this.publicOrigin(detail.tunnel);
    if (detail.protocol === 'grpc') {
      if (input.target !== 'grpcurl') throw new BurrowError(ErrorCode.InvalidInput, `a gRPC call is copied as grpcurl, not ${input.target}`);
      if (origin === undefined) throw new BurrowError(ErrorCode.Conflict, `tunnel ${detail.tunnel} is not online: no public address for the command`);
      return grpcurlCommand(detail, await this.grpcDecoder.decode({ requestId: detail.requestId }), origin);
    }
    if (!isHttpSnippetTarget(input.target)) throw new BurrowError(ErrorCode.InvalidInput, `grpcurl is for gRPC calls; this is ${detail.protocol}`);
    return requestSnippet(detail, input.target, origin);
  }

  async replayRequest(input: { requestId: string; edit?: ReplayEdit }): Promise<ReplayResult> {
    if (typeof input?.requestId !== 'string' || (input.edit !== undefined && (typeof input.edit !== 'object' || input.edit === null))) {
      throw new BurrowError(ErrorCode.InvalidInput, 'give a requestId and, to change it, an edit');
    }
    const original = this.recorded(input.requestId);
    const origin = this.publicOrigin(original.tunnel);
    if (origin === undefined) throw new BurrowError(ErrorCode.Conflict, `tunnel ${original.tunnel} is not online: nothing to send the replay through`);
    if (original.protocol === 'grpc' && input.edit !== undefined) throw new BurrowError(ErrorCode.InvalidInput, 'a gRPC call is replayed as it was: editing is for HTTP requests');
    if (this.replaysInFlight >= maxReplaysInFlight) {
      throw new BurrowError(ErrorCode.Conflict, `${maxReplaysInFlight} replays are already on their way; send this one when one of them has its answer`);
    }
    this.replaysInFlight += 1;
    try {
      return await this.replay(original, origin, input.edit);
    } finally {
      this.replaysInFlight -= 1;
    }
  }

  private async replay(original: RequestDetail, origin: string, edit: ReplayEdit | undefined): Promise<ReplayResult> {
    const sentAt = Date.now();
    // Marked as this replay's own: the newest replay of the original was another's when several ran at once, or
    // when the edge refused this one (never logged).
    const mark = `${original.requestId}; ${randomUUID()}`;
    let result: Omit<ReplayResult, 'requestId'>;
    if (original.protocol === 'grpc') {
      const grpcStatus = await sendGrpcReplay(grpcReplayPlan(original, this.traffic.keptMessages(original.requestId) ?? [], origin, mark));
      result = { status: 200, grpcStatus };
    } else {
      result = { status: await sendReplay(replayPlan(original, origin, edit, mark)) };
    }
    // The agent logged it on its way through.
    const replay = this.traffic
      .list(undefined)
      .filter((r) => r.replayOf === original.requestId && r.startedAt >= sentAt - 1_000)
      .find((r) => headerPairValue(this.traffic.detail(r.requestId)?.requestHeaders ?? [], replayOfHeader) === mark);
    return replay === undefined ? result : { ...result, requestId: replay.requestId };
  }

  private recorded(requestId: string) {
    const detail = this.traffic.detail(requestId);
    if (detail === null) throw new BurrowError(ErrorCode.NotFound, `no request ${requestId} in the traffic log`);
    return detail;
  }
}
