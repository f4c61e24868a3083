// The web inspector's WebSocket: the app contract as JSON messages, typed
// once for the server (src/main/inspector) and the browser's transport.
import type { AppEvents, CommandName, CommandResult, EventName } from './contract.js';

/** Path of the WebSocket endpoint; the token rides in its query. */
export const inspectorApiPath = '/api';

export type InspectorClientMessage = { type: 'call'; id: number; name: CommandName; input: unknown };

export type InspectorServerMessage =
  | { type: 'result'; id: number | null; result: CommandResult<unknown> }
  | { [E in EventName]: { type: 'event'; name: E; payload: AppEvents[E] } }[EventName];

/**
 * Answers 204 to the right token and 401 to a wrong one: a browser cannot
 * read why a WebSocket upgrade failed, and the page must tell "burrow is not
 * running" from "burrow restarted with a new token".
 */
export const inspectorTokenCheckPath = '/api/token';

export function inspectorTokenCheckUrl(token: string): string {
  return `${inspectorTokenCheckPath}?token=${encodeURIComponent(token)}`;
}

/** The endpoint's URL for a page served by the inspector at `host`. */
export function inspectorApiUrl(host: string, token: string): string {
  return `ws://${host}${inspectorApiPath}?token=${encodeURIComponent(token)}`;
}
