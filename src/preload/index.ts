// Exposes the app contract to the renderer as window.burrow: domain verbs
// only, no ipcRenderer. Channel names come from the contract.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { buildApi } from '../shared/contract-client.js';
import { commandChannel, eventChannel, type CommandResult } from '../shared/contract.js';

const api = buildApi({
  call: (name, input) => ipcRenderer.invoke(commandChannel(name), input) as Promise<CommandResult<unknown>>,
  subscribe: (event, listener) => {
    const relay = (_event: IpcRendererEvent, payload: unknown): void => listener(payload as never);
    ipcRenderer.on(eventChannel(event), relay);
    return () => ipcRenderer.off(eventChannel(event), relay);
  },
});

contextBridge.exposeInMainWorld('burrow', api);
