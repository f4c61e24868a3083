// Runs a contract command on the AppService and turns every outcome into a
// value, because transports (IPC, WebSocket) carry data, not exceptions.
import { commandNames, type CommandName, type CommandResult, type EventName, eventNames } from '../../shared/contract.js';
import { buildApi, type ContractTransport } from '../../shared/contract-client.js';
import type { BurrowApi } from '../../shared/contract.js';
import { AppError, AppErrorCode } from './app-error.js';
import type { AppService } from './app-service.js';

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && (commandNames as string[]).includes(name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && (eventNames as string[]).includes(name);
}

export async function invokeCommand(service: AppService, name: unknown, input: unknown): Promise<CommandResult<unknown>> {
  if (!isCommandName(name)) return { ok: false, code: AppErrorCode.UnknownCommand, message: `unknown command ${String(name)}` };
  try {
    const command = service[name] as (input: unknown) => Promise<unknown>;
    return { ok: true, value: await command.call(service, input) };
  } catch (error) {
    if (error instanceof AppError) return { ok: false, code: error.code, message: error.message };
    return { ok: false, code: AppErrorCode.Internal, message: (error as Error).message };
  }
}

/** The in-process transport: what tests use, with exactly the semantics of the others. */
export function inProcessApi(service: AppService): BurrowApi {
  const transport: ContractTransport = {
    call: (name, input) => invokeCommand(service, name, structuredClone(input)),
    subscribe: (event, listener) => {
      const relay = (payload: unknown): void => listener(structuredClone(payload) as never);
      service.on(event, relay as never);
      return () => service.off(event, relay as never);
    },
  };
  return buildApi(transport);
}
