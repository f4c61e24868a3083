// A contract transport whose connection can be replaced: the web inspector
// keeps one BurrowApi while its WebSocket to burrow is lost and made again.
// Listeners stay subscribed across connections; calls go to the current one.
import type { AppEvents, CommandName, CommandResult, EventName } from './contract.js';
import type { ContractTransport } from './contract-client.js';
import { ErrorCode } from './error-codes.js';

export interface SwitchableTransport extends ContractTransport {
  /** Routes calls and events through `next` from now on (undefined: nothing connected). */
  use(next: ContractTransport | undefined): void;
}

interface Subscription {
  event: EventName;
  // Any event's listener; the event name it was given with keeps them paired.
  listener: (payload: AppEvents[EventName]) => void;
  detach?: () => void;
}

export function switchableTransport(): SwitchableTransport {
  let current: ContractTransport | undefined;
  const subscriptions = new Set<Subscription>();
  return {
    call: (name: CommandName, input: unknown): Promise<CommandResult<unknown>> =>
      current?.call(name, input) ?? Promise.resolve({ ok: false, code: ErrorCode.Disconnected, message: 'not connected to burrow' }),
    subscribe: <E extends EventName>(event: E, listener: (payload: AppEvents[E]) => void) => {
      const subscription: Subscription = { event, listener: listener as Subscription['listener'], detach: current?.subscribe(event, listener) };
      subscriptions.add(subscription);
      return () => {
        subscription.detach?.();
        subscriptions.delete(subscription);
      };
    },
    use: (next) => {
      for (const subscription of subscriptions) {
        subscription.detach?.();
        subscription.detach = next?.subscribe(subscription.event, subscription.listener);
      }
      current = next;
    },
  };
}
