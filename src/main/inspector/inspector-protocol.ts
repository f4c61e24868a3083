// Messages of the web inspector's WebSocket: the app contract as JSON.
import type { AppEvents, CommandName, CommandResult, EventName } from '../../shared/contract.js';

export type InspectorClientMessage = { type: 'call'; id: number; name: CommandName; input: unknown };

export type InspectorServerMessage =
  | { type: 'result'; id: number | null; result: CommandResult<unknown> }
  | { [E in EventName]: { type: 'event'; name: E; payload: AppEvents[E] } }[EventName];

/** Path of the WebSocket endpoint. */
export const inspectorApiPath = '/api';
