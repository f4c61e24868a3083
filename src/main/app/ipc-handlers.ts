// Registers one IPC handler per contract command. Every call goes through
// one wrapper that refuses senders other than our own window's page.
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { commandChannel, commandNames, type CommandResult } from '../../shared/contract.js';
import type { AppService } from '../service/app-service.js';
import { invokeCommand } from '../service/command-dispatch.js';

/** Whether a sender frame's URL is our renderer (dev server or packaged file). */
export type TrustedSender = (frameUrl: string) => boolean;

export function registerIpcHandlers(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, service: AppService, trusted: TrustedSender): () => void {
  for (const name of commandNames) {
    ipcMain.handle(commandChannel(name), async (event: IpcMainInvokeEvent, input: unknown): Promise<CommandResult<unknown>> => {
      const url = event.senderFrame?.url ?? '';
      if (!trusted(url)) return { ok: false, code: 'BURROW_E_FORBIDDEN', message: `untrusted sender ${url || '(unknown)'}` };
      return invokeCommand(service, name, input);
    });
  }
  return () => commandNames.forEach((name) => ipcMain.removeHandler(commandChannel(name)));
}
