// The Electron IPC transport, around a stand-in for ipcMain (the only part
// of the electron module this file needs).
import type { IpcMainInvokeEvent } from 'electron';
import { afterEach, describe, expect, it } from 'vitest';
import { registerIpcHandlers } from '../../src/main/app/ipc-handlers.js';
import { AppService } from '../../src/main/service/app-service.js';
import { commandChannel, commandNames, type CommandResult } from '../../src/shared/contract.js';

type Handler = (event: IpcMainInvokeEvent, input: unknown) => Promise<CommandResult<unknown>>;

function fakeIpcMain() {
  const handlers = new Map<string, Handler>();
  return {
    handlers,
    handle: (channel: string, handler: Handler) => void handlers.set(channel, handler),
    removeHandler: (channel: string) => void handlers.delete(channel),
  };
}

const fromFrame = (url: string) => ({ senderFrame: { url } }) as unknown as IpcMainInvokeEvent;

let service: AppService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

describe('IPC handlers', () => {
  it('registers one channel per contract command and answers trusted senders', async () => {
    service = await AppService.open({ initial: { settings: { serverAddress: '127.0.0.1:1' } } });
    const ipc = fakeIpcMain();
    const unregister = registerIpcHandlers(ipc, service, (url) => url === 'app://ours');
    expect([...ipc.handlers.keys()].sort()).toEqual(commandNames.map(commandChannel).sort());
    const result = await ipc.handlers.get(commandChannel('createTunnel'))!(fromFrame('app://ours'), { name: 'ipc', protocol: 'http', target: '3000', enabled: false });
    expect(result).toMatchObject({ ok: true, value: { name: 'ipc', status: 'disabled' } });
    const invalid = await ipc.handlers.get(commandChannel('createTunnel'))!(fromFrame('app://ours'), { name: 'Bad Name', protocol: 'http', target: '3000' });
    expect(invalid).toMatchObject({ ok: false, code: 'BURROW_E_INVALID_INPUT' });
    unregister();
    expect(ipc.handlers.size).toBe(0);
  });

  it('refuses an unknown sender without running the command', async () => {
    service = await AppService.open({ initial: { settings: { serverAddress: '127.0.0.1:1' } } });
    const ipc = fakeIpcMain();
    registerIpcHandlers(ipc, service, (url) => url === 'app://ours');
    const result = await ipc.handlers.get(commandChannel('createTunnel'))!(fromFrame('https://evil.example/'), { name: 'x', protocol: 'http', target: '3000' });
    expect(result).toMatchObject({ ok: false, code: 'BURROW_E_FORBIDDEN' });
    expect(await service.listTunnels()).toEqual([]);
  });
});
