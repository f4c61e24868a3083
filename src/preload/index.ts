// Exposes the app contract's transport to the renderer as
// window.burrowTransport: call a command by name, subscribe to an event by
// name, nothing else of ipcRenderer. Results cross the bridge as values (the
// bridge would strip an Error's code); the renderer builds the typed API.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ContractTransport } from '../shared/contract-client.js';
import { commandChannel, commandNames, eventChannel, eventNames, type CommandResult } from '../shared/contract.js';
import { ErrorCode } from '../shared/error-codes.js';

const transport: ContractTransport = {
  call: (name, input) => {
    // Only contract names become channels, whatever the page passes.
    if (!commandNames.includes(name)) return Promise.resolve({ ok: false, code: ErrorCode.UnknownCommand, message: `unknown command ${String(name)}` });
    return ipcRenderer.invoke(commandChannel(name), input) as Promise<CommandResult<unknown>>;
  },
  subscribe: (event, listener) => {
    if (!eventNames.includes(event)) return () => {};
    const relay = (_event: IpcRendererEvent, payload: unknown): void => listener(payload as never);
    ipcRenderer.on(eventChannel(event), relay);
    return () => void ipcRenderer.off(eventChannel(event), relay);
  },
};

contextBridge.exposeInMainWorld('burrowTransport', transport);
