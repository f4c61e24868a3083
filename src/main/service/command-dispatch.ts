// Serves the contract from the AppService for any transport: runs a command
// by name and turns every outcome into a value (transports carry data, not
// exceptions), and subscribes to its events.
import { commandNames, type AppCommandHandlers, type AppEvents, type CommandName, type CommandResult, type EventName, eventNames } from '../../shared/contract.js';
import { buildApi, type ContractTransport } from '../../shared/contract-client.js';
import type { BurrowApi } from '../../shared/contract.js';
import { BurrowError, ErrorCode } from '../../shared/error-codes.js';
import { echoed } from '../../shared/input-echo.js';
import type { AppService } from './app-service.js';

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && (commandNames as string[]).includes(name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && (eventNames as string[]).includes(name);
}

/** Runs command `name` with an input from outside; the command itself validates it. */
export async function invokeCommand(service: AppCommandHandlers, name: unknown, input: unknown): Promise<CommandResult<unknown>> {
  if (!isCommandName(name)) return { ok: false, code: ErrorCode.UnknownCommand, message: `unknown command ${echoed(name)}` };
  try {
    return { ok: true, value: await run(service, name, input) };
  } catch (error) {
    if (error instanceof BurrowError) return { ok: false, code: error.code, message: error.message };
    return { ok: false, code: ErrorCode.Internal, message: (error as Error).message };
  }
}

function run<K extends CommandName>(service: AppCommandHandlers, name: K, input: unknown): Promise<unknown> {
  const command: AppCommandHandlers[K] = service[name];
  return (command as (input: unknown) => Promise<unknown>).call(service, input);
}

/** Listens to one contract event; returns the unsubscribe. */
export function onContractEvent<E extends EventName>(service: AppService, event: E, listener: (payload: AppEvents[E]) => void): () => void {
  // AppService's events carry each contract event's payload as their one argument.
  const relay = listener as (payload: unknown) => void;
  service.on(event, relay as never);
  return () => void service.off(event, relay as never);
}

/** Listens to every contract event; returns the unsubscribe. */
export function onEveryContractEvent(service: AppService, listener: <E extends EventName>(event: E, payload: AppEvents[E]) => void): () => void {
  const unsubscribers = eventNames.map((event) => onContractEvent(service, event, (payload) => listener(event, payload)));
  return () => unsubscribers.forEach((unsubscribe) => unsubscribe());
}

/** The in-process transport: what tests use, with exactly the semantics of the others. */
export function inProcessApi(service: AppService): BurrowApi {
  const transport: ContractTransport = {
    call: (name, input) => invokeCommand(service, name, structuredClone(input)),
    subscribe: (event, listener) => onContractEvent(service, event, (payload) => listener(structuredClone(payload))),
  };
  return buildApi(transport);
}
