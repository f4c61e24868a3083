// When the app tells the user about a tunnel: offline and back (not when
// switched off), and a local service that keeps failing, once, until it works.
import { describe, expect, it } from 'vitest';
import { TunnelAlerts, type TunnelAlert } from '../../src/main/service/tunnel-alerts.js';
import type { TunnelView } from '../../src/shared/contract.js';
import type { EndedRequest } from '../../src/main/service/ended-requests.js';

const view = (status: TunnelView['status'], patch: Partial<TunnelView> = {}): TunnelView => ({ id: 't1', name: 'web', protocol: 'http', target: '3000', enabled: true, status, ...patch });

function alertsOn(now: () => number = () => 0): { alerts: TunnelAlerts; seen: TunnelAlert[] } {
  const seen: TunnelAlert[] = [];
  return { alerts: new TunnelAlerts((alert) => seen.push(alert), { failuresToAlert: 3, windowMs: 60_000 }, now), seen };
}

describe('TunnelAlerts', () => {
  it('says a tunnel went offline and came back, and nothing while it connects the first time', () => {
    const { alerts, seen } = alertsOn();
    alerts.tunnelsChanged([view('connecting')]);
    alerts.tunnelsChanged([view('online', { publicUrl: 'http://web.localhost:8080' })]);
    expect(seen).toEqual([]);
    alerts.tunnelsChanged([view('connecting')]);
    alerts.tunnelsChanged([view('connecting')]);
    alerts.tunnelsChanged([view('online', { publicUrl: 'http://web.localhost:8080' })]);
    expect(seen).toEqual([
      { title: 'Tunnel web is offline', body: 'the connection to the tunnel server was lost; reconnecting' },
      { title: 'Tunnel web is back online', body: 'http://web.localhost:8080' },
    ]);
  });

  it('says nothing when the user switches a tunnel off, and gives the reason of an error', () => {
    const { alerts, seen } = alertsOn();
    alerts.tunnelsChanged([view('online')]);
    alerts.tunnelsChanged([view('disabled')]);
    alerts.tunnelsChanged([view('online')]);
    expect(seen).toEqual([]);
    alerts.tunnelsChanged([view('error', { error: { code: 'BURROW_E_NAME_TAKEN', message: 'tunnel name "web" is already in use' } })]);
    expect(seen).toEqual([{ title: 'Tunnel web is offline', body: 'tunnel name "web" is already in use' }]);
  });

  it('says once that a local service keeps failing, and again only after it worked in between', () => {
    let now = 0;
    const { alerts, seen } = alertsOn(() => now);
    const request = (outcome: 'ok' | 'refused' | 'client-gone'): void => {
      const ended: EndedRequest = { tunnel: 'web', protocol: 'http', status: 200, bytesIn: 0, bytesOut: 0, durationMs: 1 };
      if (outcome === 'ok') alerts.ended(ended);
      else alerts.ended({ ...ended, status: 502, errorCode: outcome === 'refused' ? 'BURROW_E_LOCAL_UNREACHABLE' : 'BURROW_E_CLIENT_GONE', errorMessage: 'connection refused (is it running?)' });
    };
    request('refused');
    request('client-gone'); // the client's doing: not counted
    request('refused');
    now += 61_000; // the first failure is out of the window
    request('refused');
    expect(seen).toEqual([]);
    request('refused');
    request('refused');
    request('refused');
    expect(seen).toEqual([{ title: 'The local service of web keeps failing', body: '3 requests in a row: connection refused (is it running?)' }]);
    request('ok');
    for (let i = 0; i < 3; i++) request('refused');
    expect(seen).toHaveLength(2);
  });
});
