// The contract over Electron IPC end to end: the real preload (electron
// stubbed with an in-memory ipcRenderer/ipcMain pair) exposes
// its transport to the renderer, which reaches the real handlers and
// receives every forwarded event.
import type { IpcMainInvokeEvent } from 'electron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { forwardEvents, registerIpcHandlers } from '../../src/main/app/ipc-handlers.js';
import { AppService } from '../../src/main/service/app-service.js';
import { buildApi, type ContractTransport } from '../../src/shared/contract-client.js';
import { commandNames, eventNames, type BurrowApi, type CommandName, type EventName } from '../../src/shared/contract.js';
import { contractSamples, expectEverySampleAnswered, triggerEveryEvent } from '../helpers/contract-samples.js';

const ipc = vi.hoisted(() => {
  type Listener = (event: unknown, payload: unknown) => void;
  const handlers = new Map<string, (event: unknown, input: unknown) => Promise<unknown>>();
  const listeners = new Map<string, Set<Listener>>();
  const exposed: Record<string, unknown> = {};
  return {
    handlers,
    exposed,
    /** What webContents.send does: deliver to the renderer's listeners. */
    send: (channel: string, payload: unknown) => listeners.get(channel)?.forEach((listener) => listener({}, structuredClone(payload))),
    listenerCount: () => [...listeners.values()].reduce((n, set) => n + set.size, 0),
    module: {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
      ipcRenderer: {
        invoke: async (channel: string, input: unknown) => {
          const handler = handlers.get(channel);
          if (handler === undefined) throw new Error(`No handler registered for '${channel}'`);
          return structuredClone(await handler({ senderFrame: { url: 'app://burrow/index.html' } }, structuredClone(input)));
        },
        on: (channel: string, listener: Listener) => {
          if (!listeners.has(channel)) listeners.set(channel, new Set());
          listeners.get(channel)!.add(listener);
        },
        off: (channel: string, listener: Listener) => listeners.get(channel)?.delete(listener),
      },
    },
  };
});
vi.mock('electron', () => ipc.module);

let service: AppService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

async function ipcApi(): Promise<{ api: BurrowApi; service: AppService; stop(): void }> {
  service = await AppService.open({ initial: { settings: { serverAddress: '127.0.0.1:1' } }, flushIntervalMs: 20 });
  const fakeIpcMain = {
    handle: (channel: string, handler: (event: IpcMainInvokeEvent, input: unknown) => Promise<unknown>) => void ipc.handlers.set(channel, handler as never),
    removeHandler: (channel: string) => void ipc.handlers.delete(channel),
  };
  const unregister = registerIpcHandlers(fakeIpcMain, service, (url) => url === 'app://burrow/index.html');
  const unforward = forwardEvents(service, ipc.send);
  await import('../../src/preload/index.js');
  return {
    api: buildApi(ipc.exposed.burrowTransport as ContractTransport),
    service,
    stop: () => {
      unregister();
      unforward();
    },
  };
}

describe('contract over IPC (the real preload)', () => {
  it('answers every command, and reports a failed one as an error with its code', async () => {
    const { api, stop } = await ipcApi();
    await expectEverySampleAnswered(api, 'ipc');
    expect(Object.keys(contractSamples).sort()).toEqual([...commandNames].sort());
    await expect(api.createTunnel({ name: 'Bad Name', protocol: 'http', target: '3000' })).rejects.toMatchObject({ code: 'BURROW_E_INVALID_INPUT' });
    // A page cannot turn the transport into a way to reach other channels.
    const transport = ipc.exposed.burrowTransport as ContractTransport;
    expect(await transport.call('evil' as CommandName, {})).toMatchObject({ ok: false, code: 'BURROW_E_UNKNOWN_COMMAND' });
    stop();
  });

  it('delivers every event, and unsubscribing stops delivery', async () => {
    const { api, service, stop } = await ipcApi();
    const seen = new Set<EventName>();
    const unsubscribers = eventNames.map((name) => api.on(name, () => seen.add(name)));
    await triggerEveryEvent(api, service);
    await vi.waitFor(() => expect([...seen].sort()).toEqual([...eventNames].sort()), { timeout: 5_000 });
    unsubscribers.forEach((unsubscribe) => unsubscribe());
    expect(ipc.listenerCount()).toBe(0);
    stop();
    expect(service.listenerCount('tunnels')).toBe(0);
  });
});
