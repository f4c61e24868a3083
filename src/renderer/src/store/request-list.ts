// The inspector's request list: the latest summary of each request by
// request_id, oldest first, never longer than its bound. Updates can arrive
// before the snapshot that should precede them (the UI subscribes first,
// then loads), so a finished request never goes back to in-flight.
import type { RequestSummary } from '../../../shared/contract.js';

export interface RequestList {
  /** Oldest first. */
  readonly ids: readonly string[];
  readonly byId: ReadonlyMap<string, RequestSummary>;
}

export const emptyRequestList: RequestList = { ids: [], byId: new Map() };

function isFinal(summary: RequestSummary): boolean {
  return summary.state !== 'in-flight';
}

const progress = (s: RequestSummary): number => s.bytesIn + s.bytesOut + s.messageCount;

/** Whether `incoming` carries news over `current`: final beats in-flight, and counters only grow. */
function supersedes(incoming: RequestSummary, current: RequestSummary): boolean {
  if (isFinal(current) !== isFinal(incoming)) return isFinal(incoming);
  return progress(incoming) >= progress(current);
}

/** The list without these requests (cleared from a filter's view). */
export function removeRequests(list: RequestList, requestIds: readonly string[]): RequestList {
  const gone = new Set(requestIds.filter((id) => list.byId.has(id)));
  if (gone.size === 0) return list;
  const byId = new Map(list.byId);
  for (const id of gone) byId.delete(id);
  return { ids: list.ids.filter((id) => !gone.has(id)), byId };
}

export function mergeRequests(list: RequestList, updates: readonly RequestSummary[], maxRequests: number): RequestList {
  if (updates.length === 0) return list;
  const byId = new Map(list.byId);
  const added: string[] = [];
  for (const update of updates) {
    const current = byId.get(update.requestId);
    if (current === undefined) {
      added.push(update.requestId);
      byId.set(update.requestId, update);
    } else if (supersedes(update, current)) {
      byId.set(update.requestId, update);
    }
  }
  let ids = added.length === 0 ? list.ids : [...list.ids, ...added];
  if (added.length > 0) {
    // Arrival order is not start order when a snapshot lands after live updates.
    ids = [...ids].sort((a, b) => byId.get(a)!.startedAt - byId.get(b)!.startedAt);
  }
  if (ids.length > maxRequests) {
    const dropped = ids.slice(0, ids.length - maxRequests);
    for (const id of dropped) byId.delete(id);
    ids = ids.slice(ids.length - maxRequests);
  }
  return { ids, byId };
}
