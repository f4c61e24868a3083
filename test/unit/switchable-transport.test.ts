// The web inspector's transport across reconnections: listeners subscribed
// once hear every connection, calls go to the current one, none when down.
import { describe, expect, it } from 'vitest';
import type { ContractTransport } from '../../src/shared/contract-client.js';
import type { AppEvents, EventName } from '../../src/shared/contract.js';
import { switchableTransport } from '../../src/shared/switchable-transport.js';

function fakeTransport(label: string): ContractTransport & { emit<E extends EventName>(event: E, payload: AppEvents[E]): void; listeners: () => number } {
  const listeners = new Map<string, Set<(payload: never) => void>>();
  return {
    call: async (name) => ({ ok: true, value: `${label}:${name}` }),
    subscribe: (event, listener) => {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
    emit: (event, payload) => {
      for (const listener of listeners.get(event) ?? []) listener(payload as never);
    },
    listeners: () => [...listeners.values()].reduce((n, set) => n + set.size, 0),
  };
}

describe('switchableTransport', () => {
  it('keeps listeners across connections and routes calls to the current one', async () => {
    const transport = switchableTransport();
    const heard: string[] = [];
    const stop = transport.subscribe('showView', (view) => heard.push(view));
    expect(await transport.call('listTunnels', undefined)).toMatchObject({ ok: false, code: 'BURROW_E_DISCONNECTED' });
    const first = fakeTransport('first');
    transport.use(first);
    first.emit('showView', 'tunnels');
    expect(await transport.call('listTunnels', undefined)).toEqual({ ok: true, value: 'first:listTunnels' });
    transport.use(undefined);
    expect(first.listeners()).toBe(0);
    const second = fakeTransport('second');
    transport.use(second);
    first.emit('showView', 'settings');
    second.emit('showView', 'inspector');
    expect(heard).toEqual(['tunnels', 'inspector']);
    expect(await transport.call('getSettings', undefined)).toEqual({ ok: true, value: 'second:getSettings' });
    stop();
    second.emit('showView', 'connection');
    expect(heard).toEqual(['tunnels', 'inspector']);
    expect(second.listeners()).toBe(0);
  });
});
