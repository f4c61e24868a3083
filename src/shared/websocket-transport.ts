// The web inspector's client side of the contract over one WebSocket.
// Works with the browser's WebSocket and with the `ws` package alike.
import type { AppEvents, CommandName, CommandResult, EventName } from './contract.js';
import type { ContractTransport } from './contract-client.js';
import { ErrorCode } from './error-codes.js';
import type { InspectorClientMessage, InspectorServerMessage } from './inspector-protocol.js';

/** The part of the WebSocket interface this needs, common to browsers and `ws`. */
export interface MinimalWebSocket {
  readonly readyState: number;
  send(data: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: () => void): void;
}

const open = 1;

export function webSocketTransport(socket: MinimalWebSocket): ContractTransport {
  let nextId = 1;
  const pending = new Map<number, (result: CommandResult<unknown>) => void>();
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  socket.addEventListener('message', (event) => {
    // From the server, but checked: a malformed message is dropped, not trusted.
    let message: Partial<InspectorServerMessage>;
    try {
      message = JSON.parse(String(event.data)) as Partial<InspectorServerMessage>;
    } catch {
      return;
    }
    if (message.type === 'result' && typeof message.id === 'number' && message.result !== undefined) {
      pending.get(message.id)?.(message.result);
      pending.delete(message.id);
    } else if (message.type === 'event' && message.name !== undefined) {
      for (const listener of listeners.get(message.name) ?? []) listener(message.payload as never);
    }
  });
  socket.addEventListener('close', () => {
    for (const resolve of pending.values()) resolve({ ok: false, code: ErrorCode.Disconnected, message: 'the inspector connection closed' });
    pending.clear();
  });
  return {
    call: (name: CommandName, input: unknown) =>
      new Promise((resolve) => {
        if (socket.readyState !== open) {
          resolve({ ok: false, code: ErrorCode.Disconnected, message: 'the inspector connection is not open' });
          return;
        }
        const id = nextId++;
        pending.set(id, resolve);
        const call: InspectorClientMessage = { type: 'call', id, name, input };
        socket.send(JSON.stringify(call));
      }),
    subscribe: <E extends EventName>(event: E, listener: (payload: AppEvents[E]) => void) => {
      let set = listeners.get(event);
      if (set === undefined) listeners.set(event, (set = new Set()));
      set.add(listener as (payload: never) => void);
      return () => set!.delete(listener as (payload: never) => void);
    },
  };
}
