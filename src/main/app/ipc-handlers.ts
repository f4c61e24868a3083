// The contract over Electron IPC: one handler per command, each behind a
// wrapper that refuses senders other than our own window's page, and every
// event forwarded on its derived channel.
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { commandChannel, commandNames, eventChannel, type CommandResult } from '../../shared/contract.js';
import { ErrorCode } from '../../shared/error-codes.js';
import type { AppService } from '../service/app-service.js';
import { invokeCommand, onEveryContractEvent } from '../service/command-dispatch.js';

/** Whether a sender frame's URL is our renderer (dev server or packaged file). */
export type TrustedSender = (frameUrl: string) => boolean;

export function registerIpcHandlers(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, service: AppService, trusted: TrustedSender): () => void {
  for (const name of commandNames) {
    ipcMain.handle(commandChannel(name), async (event: IpcMainInvokeEvent, input: unknown): Promise<CommandResult<unknown>> => {
      const url = event.senderFrame?.url ?? '';
      if (!trusted(url)) return { ok: false, code: ErrorCode.Forbidden, message: `untrusted sender ${url || '(unknown)'}` };
      return invokeCommand(service, name, input);
    });
  }
  return () => commandNames.forEach((name) => ipcMain.removeHandler(commandChannel(name)));
}

/** Forwards every contract event to the window; `send` is webContents.send while the window lives. */
export function forwardEvents(service: AppService, send: (channel: string, payload: unknown) => void): () => void {
  return onEveryContractEvent(service, (name, payload) => send(eventChannel(name), payload));
}
