// Builds the UI-facing BurrowApi from any transport that can send a command
// and subscribe to an event. The preload (IPC), the browser (WebSocket) and
// tests (in-process) all use this, so the contract's shape lives in one place.
import {
  commandNames,
  type AppEvents,
  type BurrowApi,
  type CommandName,
  type CommandResult,
  type EventName,
} from './contract.js';
import { BurrowError } from './error-codes.js';


export interface ContractTransport {
  call(name: CommandName, input: unknown): Promise<CommandResult<unknown>>;
  subscribe<E extends EventName>(event: E, listener: (payload: AppEvents[E]) => void): () => void;
}

export function buildApi(transport: ContractTransport): BurrowApi {
  const api: Record<string, unknown> = {
    on: <E extends EventName>(event: E, listener: (payload: AppEvents[E]) => void) => transport.subscribe(event, listener),
  };
  for (const name of commandNames) {
    api[name] = async (input: unknown) => {
      const result = await transport.call(name, input);
      // The stable code the main side reported, on the one coded error class.
      if (!result.ok) throw new BurrowError(result.code, result.message);
      return result.value;
    };
  }
  return api as BurrowApi;
}
