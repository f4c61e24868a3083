// Runtime checks for what crosses a transport into the UI: a malformed
// payload is dropped and counted, never rendered or allowed to throw in a
// React render.
import type { ConnectionEvent, RequestSummary, RoundTrip, ThroughputPoint, TrafficBatch } from '../../../shared/contract.js';

const protocols = new Set(['http', 'websocket', 'grpc']);
const states = new Set(['in-flight', 'done', 'error']);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

export function isRequestSummary(value: unknown): value is RequestSummary {
  return (
    isRecord(value) &&
    typeof value.requestId === 'string' &&
    value.requestId.length > 0 &&
    typeof value.tunnel === 'string' &&
    protocols.has(value.protocol as string) &&
    typeof value.method === 'string' &&
    typeof value.path === 'string' &&
    states.has(value.state as string) &&
    isCount(value.startedAt) &&
    isCount(value.bytesIn) &&
    isCount(value.bytesOut) &&
    isCount(value.messageCount) &&
    (value.status === undefined || isCount(value.status))
  );
}

export function isThroughputPoint(value: unknown): value is ThroughputPoint {
  return isRecord(value) && isCount(value.at) && isCount(value.requests) && isCount(value.bytesIn) && isCount(value.bytesOut) && isCount(value.openStreams);
}

/** The valid part of a traffic batch, and how many entries were not. */
export function validTrafficBatch(value: unknown): { batch: TrafficBatch; dropped: number } {
  if (!isRecord(value) || !Array.isArray(value.updated)) return { batch: { updated: [], cleared: false }, dropped: 1 };
  const updated = value.updated.filter(isRequestSummary);
  const ids = (list: unknown): string[] => (Array.isArray(list) ? list.filter((id): id is string => typeof id === 'string') : []);
  const removed = ids(value.removed);
  const evicted = ids(value.evicted);
  return {
    batch: { updated, cleared: value.cleared === true, ...(removed.length > 0 && { removed }), ...(evicted.length > 0 && { evicted }) },
    dropped: value.updated.length - updated.length,
  };
}

const connectionKinds = new Set(['connecting', 'connected', 'disconnected', 'data-stream-open', 'data-stream-lost', 'wake', 'probe']);

export function isConnectionEvent(value: unknown): value is ConnectionEvent {
  return isRecord(value) && isCount(value.at) && connectionKinds.has(value.kind as string) && typeof value.detail === 'string' && typeof value.server === 'string';
}

export function isRoundTrip(value: unknown): value is RoundTrip {
  return isRecord(value) && isCount(value.at) && isCount(value.ms) && typeof value.server === 'string';
}
