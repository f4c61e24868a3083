// The bounded traffic log behind the inspector: the latest requests by
// request_id with capped bodies and messages, and the set changed since the
// UI's last batch. Memory stays bounded whatever the traffic rate: by a count
// of requests, and by a budget for the bytes their bodies and message
// previews keep (beyond it the oldest requests keep only their metadata).
import type {
  BodyPreview,
  MessageView,
  RequestDetail,
  RequestSummary,
  TrafficBatch,
} from '../../shared/contract.js';
import { addFlowBytes, grpcMessageWireBytes, grpcStatusIn, headerPairValue, replayOfHeader, type FlowDirection, type HeaderPair, type TrafficEvent } from '../../shared/traffic.js';
import { observedMessageBytes } from '../tunnel/grpc-message-splitter.js';
import { IdMap } from '../tunnel/id-map.js';
import { Fifo } from './fifo.js';

export interface TrafficLogLimits {
  /** Requests kept; the oldest are dropped first. */
  maxRequests: number;
  /** Bytes of each body kept for display. */
  bodyCapBytes: number;
  /** WebSocket frames / gRPC messages kept per request (the latest). */
  maxMessagesPerRequest: number;
  /** Bytes of each message shown in a request's detail. */
  messagePreviewBytes: number;
  /** Bytes of each message kept (at least the preview): enough to decode a gRPC message by its schema. */
  messageKeepBytes: number;
  /**
   * Body and preview bytes kept over all requests; beyond it the oldest
   * requests lose theirs. Without it, 2,000 requests with 64 KiB bodies each
   * way would hold 256 MB.
   */
  maxRetainedBytes: number;
}

export const defaultTrafficLogLimits: TrafficLogLimits = {
  maxRequests: 2_000,
  bodyCapBytes: 64 * 1024,
  maxMessagesPerRequest: 500,
  messagePreviewBytes: 1024,
  // All the engine passes on of a message that spans chunks (grpc-message-splitter.ts).
  messageKeepBytes: observedMessageBytes,
  maxRetainedBytes: 32 * 1024 * 1024,
};

/** The headless agent's web inspector: a process beside the user's IDE and browser keeps a quarter of the app's bytes. */
export const headlessTrafficLogLimits: TrafficLogLimits = Object.assign({}, defaultTrafficLogLimits, { maxRequests: 1_000, maxRetainedBytes: 8 * 1024 * 1024 });

/** No inspector at all (`burrow --no-inspect`): nobody could look, so requests keep their metadata only, no bytes. */
export const unwatchedTrafficLogLimits: TrafficLogLimits = { maxRequests: 100, bodyCapBytes: 0, maxMessagesPerRequest: 0, messagePreviewBytes: 0, messageKeepBytes: 0, maxRetainedBytes: 0 };

class BodyCapture {
  private chunks: Buffer[] = [];
  private captured = 0;
  private released = false;
  private gapped = false;
  total = 0;

  constructor(private readonly cap: number) {}

  /** Returns how many bytes it kept; `missing` bytes after `data` count towards the body's size (it is then cut). */
  add(data: Uint8Array, missing = 0): number {
    this.total += data.length + missing;
    const room = this.cap - this.captured;
    const keep = room > 0 && !this.released && !this.gapped;
    // Nothing after a gap can be kept as if it followed what was kept.
    if (missing > 0) this.gapped = true;
    if (!keep) return 0;
    // Copy: the engine's buffer is reused or retained elsewhere.
    const piece = Buffer.from(data.subarray(0, room));
    this.chunks.push(piece);
    this.captured += piece.length;
    return piece.length;
  }

  /** Lets go of what it kept, for good; returns how many bytes that was. */
  release(): number {
    const kept = this.captured;
    this.chunks = [];
    this.captured = 0;
    this.released = true;
    return kept;
  }

  /** Whether the kept bytes, read as text, contain `needle` (lower case), ignoring case. */
  contains(needle: string): boolean {
    return this.captured > 0 && Buffer.concat(this.chunks).toString('utf8').toLowerCase().includes(needle);
  }

  preview(contentType: string | undefined): BodyPreview {
    return {
      base64: Buffer.concat(this.chunks).toString('base64'),
      totalBytes: this.total,
      truncated: this.total > this.captured,
      ...(this.released && { released: true }),
      ...(contentType !== undefined && { contentType }),
    };
  }
}

/** A WebSocket frame or gRPC message: what the detail shows, and the bytes kept of it. */
export interface KeptMessage {
  /** Its previewBase64 is made from `data` when a detail is asked for. */
  view: MessageView;
  data: Buffer;
}

interface RequestRecord {
  summary: RequestSummary;
  requestHeaders: HeaderPair[];
  responseHeaders: HeaderPair[];
  trailers: HeaderPair[];
  requestTrailers: HeaderPair[];
  requestBody: BodyCapture;
  responseBody: BodyCapture;
  messages: KeptMessage[];
  messagesTruncated: boolean;
  wsIndex: Record<FlowDirection, number>;
  /** Body and preview bytes this record keeps. */
  retainedBytes: number;
  /** In the holding queue: it keeps bytes that a budget overflow may release. */
  holding: boolean;
}

export class TrafficLog {
  // IdMaps, not a Map and a Set: requests churn through them (see id-map.ts).
  private readonly records = new IdMap<RequestRecord>();
  private readonly dirty = new IdMap<true>();
  private cleared = false;
  private removed: string[] = [];
  private evicted: string[] = [];
  private retainedBytes = 0;
  /** Request ids in the order they started: the oldest is evicted first. */
  private readonly order = new Fifo<string>();
  /** Ids of requests that keep bytes, in the order they started to (may hold ids since evicted). */
  private readonly holdingOrder = new Fifo<string>();
  private holdingCount = 0;

  constructor(private readonly limits: TrafficLogLimits = defaultTrafficLogLimits) {}

  get size(): number {
    return this.records.size;
  }

  /** Folds one engine event in. Events for unknown (or dropped) requests are ignored. */
  apply(event: TrafficEvent): void {
    if (event.kind === 'request-start') {
      if (!this.records.has(event.requestId)) this.order.push(event.requestId);
      this.records.set(event.requestId, {
        summary: {
          requestId: event.requestId,
          tunnel: event.tunnel,
          protocol: event.protocol,
          method: event.method,
          path: event.path,
          state: 'in-flight',
          startedAt: event.at,
          bytesIn: 0,
          bytesOut: 0,
          messageCount: 0,
          ...(event.edgeWaitMs !== undefined && { edgeWaitMs: event.edgeWaitMs }),
          ...(event.httpVersion !== undefined && { httpVersion: event.httpVersion }),
          ...replayOf(event.headers),
        },
        requestHeaders: event.headers,
        responseHeaders: [],
        trailers: [],
        requestTrailers: [],
        requestBody: new BodyCapture(this.limits.bodyCapBytes),
        responseBody: new BodyCapture(this.limits.bodyCapBytes),
        messages: [],
        messagesTruncated: false,
        wsIndex: { 'to-service': 0, 'to-client': 0 },
        retainedBytes: 0,
        holding: false,
      });
      this.dirty.set(event.requestId, true);
      this.evictOldest();
      return;
    }
    const record = this.records.get(event.requestId);
    if (record === undefined) return;
    const { summary } = record;
    switch (event.kind) {
      case 'response-head':
        summary.status = event.status;
        if (event.byTunnel !== true) summary.firstByteMs ??= Math.max(0, event.at - summary.startedAt);
        record.responseHeaders = event.headers;
        // A trailers-only answer carries its grpc-status among the headers.
        if (summary.protocol === 'grpc') summary.grpcStatus = grpcStatusIn(event.headers) ?? summary.grpcStatus;
        break;
      case 'body':
        addFlowBytes(summary, event.direction, event.data.length);
        this.retain(event.requestId, record, (event.direction === 'to-service' ? record.requestBody : record.responseBody).add(event.data, event.missingBytes));
        break;
      case 'ws-frame': {
        // Counted as frames pass, so an open socket's bytes grow live (the end event has the exact totals).
        addFlowBytes(summary, event.direction, event.size);
        const index = record.wsIndex[event.direction]++;
        this.addMessage(
          event.requestId,
          record,
          {
            direction: event.direction,
            at: event.at,
            size: event.size,
            opcode: event.opcode,
            index,
            previewBase64: '',
            ...(event.closeCode !== undefined && { closeCode: event.closeCode, closeReason: event.closeReason }),
            ...(event.injected === true && { injected: true }),
          },
          event.data,
        );
        break;
      }
      case 'grpc-message':
        // Counted as messages pass, as on the wire (as the end's totals count them): an open stream showed 0 B.
        addFlowBytes(summary, event.direction, grpcMessageWireBytes(event.size));
        this.addMessage(
          event.requestId,
          record,
          { direction: event.direction, at: event.at, size: event.size, opcode: 0, index: event.index, previewBase64: '', ...(event.compressed && { compressed: true }) },
          event.data,
        );
        break;
      case 'trailers':
        if (event.direction === 'to-service') {
          record.requestTrailers = event.headers;
          break;
        }
        record.trailers = event.headers;
        if (summary.protocol === 'grpc') summary.grpcStatus = grpcStatusIn(event.headers) ?? summary.grpcStatus;
        break;
      case 'request-end':
        summary.state = 'done';
        summary.status = event.status;
        summary.durationMs = event.durationMs;
        summary.bytesIn = event.bytesIn;
        summary.bytesOut = event.bytesOut;
        break;
      case 'request-error':
        summary.state = 'error';
        summary.durationMs = event.durationMs;
        summary.bytesIn = event.bytesIn;
        summary.bytesOut = event.bytesOut;
        summary.error = { code: event.code, message: event.message };
        summary.status ??= event.status;
        summary.grpcStatus ??= event.grpcStatus;
        break;
      default: {
        const unknown: never = event;
        throw new Error(`unhandled traffic event ${(unknown as { kind: string }).kind}`);
      }
    }
    this.dirty.set(event.requestId, true);
  }

  /** Summaries changed since the last call, or undefined when nothing changed. */
  takeBatch(): TrafficBatch | undefined {
    if (this.dirty.size === 0 && !this.cleared && this.removed.length === 0 && this.evicted.length === 0) return undefined;
    const updated: RequestSummary[] = [];
    for (const id of this.dirty.keys()) {
      const record = this.records.get(id);
      if (record !== undefined) updated.push({ ...record.summary });
    }
    const batch: TrafficBatch = { updated, cleared: this.cleared, ...(this.removed.length > 0 && { removed: this.removed }), ...(this.evicted.length > 0 && { evicted: this.evicted }) };
    this.dirty.clear();
    this.cleared = false;
    this.removed = [];
    this.evicted = [];
    return batch;
  }

  /** The latest `limit` requests, newest last. */
  list(limit = this.limits.maxRequests): RequestSummary[] {
    const all = [...this.records.values()];
    return all.slice(Math.max(0, all.length - limit)).map((r) => ({ ...r.summary }));
  }

  detail(requestId: string): RequestDetail | null {
    const record = this.records.get(requestId);
    if (record === undefined) return null;
    const contentType = (headers: HeaderPair[]): string | undefined => headerPairValue(headers, 'content-type');
    return Object.assign({}, record.summary, {
      requestHeaders: record.requestHeaders,
      responseHeaders: record.responseHeaders,
      trailers: record.trailers,
      requestTrailers: record.requestTrailers,
      requestBody: record.requestBody.preview(contentType(record.requestHeaders)),
      responseBody: record.responseBody.preview(contentType(record.responseHeaders)),
      messages: record.messages.map(({ view, data }) => Object.assign({}, view, { previewBase64: data.subarray(0, this.limits.messagePreviewBytes).toString('base64') })),
      messagesTruncated: record.messagesTruncated,
    });
  }

  /** The request's kept messages with their bytes (the latest, up to the per-request limit), or null when it is not in the log. */
  keptMessages(requestId: string): readonly KeptMessage[] | null {
    return this.records.get(requestId)?.messages ?? null;
  }

  /**
   * Requests whose headers (names and values), trailers or kept bodies
   * contain `text`, ignoring case: what the list's own filter cannot see,
   * since it holds only summaries. Newest last, at most `limit`.
   */
  search(text: string, limit = this.limits.maxRequests): string[] {
    const needle = text.trim().toLowerCase();
    if (needle === '') return [];
    const inHeaders = (headers: readonly HeaderPair[]): boolean => headers.some(([name, value]) => `${name}: ${value}`.toLowerCase().includes(needle));
    const found: string[] = [];
    for (const [id, record] of this.records.entries()) {
      if (
        inHeaders(record.requestHeaders) ||
        inHeaders(record.responseHeaders) ||
        inHeaders(record.trailers) ||
        inHeaders(record.requestTrailers) ||
        record.requestBody.contains(needle) ||
        record.responseBody.contains(needle)
      ) {
        found.push(id);
      }
    }
    return found.slice(Math.max(0, found.length - limit));
  }

  /** Forgets these requests (a filter's selection); the next batch names them. */
  remove(requestIds: readonly string[]): number {
    let count = 0;
    for (const id of requestIds) {
      if (!this.forget(id)) continue;
      this.removed.push(id);
      count++;
    }
    // Eviction skips the ids of removed requests, but only once the log is full: until then they would pile up.
    if (this.order.length > 2 * this.records.size + 1024) {
      this.order.retain((id) => this.records.has(id));
      this.holdingOrder.retain((id) => this.records.get(id)?.holding === true);
    }
    return count;
  }

  clear(): number {
    const count = this.records.size;
    this.removed = [];
    this.evicted = [];
    this.records.clear();
    this.dirty.clear();
    this.order.clear();
    this.holdingOrder.clear();
    this.holdingCount = 0;
    this.retainedBytes = 0;
    this.cleared = true;
    return count;
  }

  private addMessage(requestId: string, record: RequestRecord, view: MessageView, data: Uint8Array): void {
    record.summary.messageCount++;
    // Copy: the engine's buffer is reused or retained elsewhere.
    const kept = Buffer.from(data.subarray(0, Math.max(this.limits.messageKeepBytes, this.limits.messagePreviewBytes)));
    record.messages.push({ view, data: kept });
    let bytes = kept.length;
    if (record.messages.length > this.limits.maxMessagesPerRequest) {
      bytes -= record.messages.shift()!.data.length;
      record.messagesTruncated = true;
    }
    this.retain(requestId, record, bytes);
  }

  private retain(requestId: string, record: RequestRecord, bytes: number): void {
    record.retainedBytes += bytes;
    this.retainedBytes += bytes;
    if (record.retainedBytes > 0 && !record.holding) {
      record.holding = true;
      this.holdingCount++;
      this.holdingOrder.push(requestId);
    }
    // The most recent holder always keeps its bytes: it is what the user is looking at.
    while (this.retainedBytes > this.limits.maxRetainedBytes && this.holdingCount > 1) {
      const oldestId = this.holdingOrder.shift();
      if (oldestId === undefined) break;
      const oldest = this.records.get(oldestId);
      if (oldest?.holding) this.releaseBytes(oldest);
    }
  }

  /** Keeps the request's metadata (summary, headers, message sizes) and lets go of its bytes. */
  private releaseBytes(record: RequestRecord): void {
    record.requestBody.release();
    record.responseBody.release();
    record.messages = record.messages.map(({ view }) => ({ view, data: emptyBuffer }));
    this.retainedBytes -= record.retainedBytes;
    record.retainedBytes = 0;
    record.holding = false;
    this.holdingCount--;
  }

  private evictOldest(): void {
    while (this.records.size > this.limits.maxRequests) {
      const oldestId = this.order.shift();
      if (oldestId === undefined) return;
      if (this.forget(oldestId)) this.evicted.push(oldestId);
    }
  }

  /** Drops one request and what it keeps; its id may stay in the queues, which skip ids no longer held. */
  private forget(requestId: string): boolean {
    const record = this.records.get(requestId);
    if (record === undefined) return false;
    this.records.delete(requestId);
    this.dirty.delete(requestId);
    if (record.holding) this.holdingCount--;
    this.retainedBytes -= record.retainedBytes;
    return true;
  }
}

const emptyBuffer = Buffer.alloc(0);

/** A replay sent from the inspector names the request it repeats (see replay.ts). */
function replayOf(headers: readonly HeaderPair[]): { replayOf?: string } {
  // The original's id, before the `;` that marks which replay this is (request-tools.ts).
  const original = headerPairValue(headers, replayOfHeader)?.split(';')[0]!.trim();
  return original === undefined ? {} : { replayOf: original };
}
