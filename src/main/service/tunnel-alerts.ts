// When the desktop app tells the user about a tunnel: it went offline (it
// was online and is not, not because the user switched it off), it is back,
// or its local service keeps failing (several requests in a row refused or
// cut within a minute: reported once, until a request gets through again).
import type { TunnelView } from '../../shared/contract.js';
import { ErrorCode } from '../../shared/error-codes.js';
import type { EndedRequest } from './ended-requests.js';

export interface TunnelAlert {
  title: string;
  body: string;
}

export interface TunnelAlertOptions {
  /** Failed requests in a row that make a failing local service. */
  failuresToAlert: number;
  /** ...all within this long. */
  windowMs: number;
}

export const defaultTunnelAlertOptions: TunnelAlertOptions = { failuresToAlert: 5, windowMs: 60_000 };

/** Codes that mean the local service, not the client or the tunnel, failed. */
const localFailures = new Set<string>([ErrorCode.LocalUnreachable, ErrorCode.LocalFailed]);

interface ServiceHealth {
  failuresAt: number[];
  alerted: boolean;
}

export class TunnelAlerts {
  private readonly statuses = new Map<string, TunnelView['status']>();
  /** Tunnels reported offline, to say when they are back. */
  private readonly offline = new Set<string>();
  private readonly health = new Map<string, ServiceHealth>();

  constructor(
    private readonly alert: (alert: TunnelAlert) => void,
    private readonly options: TunnelAlertOptions = defaultTunnelAlertOptions,
    private readonly now: () => number = Date.now,
  ) {}

  tunnelsChanged(views: readonly TunnelView[]): void {
    for (const view of views) {
      const label = view.name || view.target;
      const before = this.statuses.get(view.id);
      this.statuses.set(view.id, view.status);
      if (before === 'online' && (view.status === 'connecting' || view.status === 'error')) {
        this.offline.add(view.id);
        this.alert({ title: `Tunnel ${label} is offline`, body: view.error?.message ?? 'the connection to the tunnel server was lost; reconnecting' });
      } else if (view.status === 'online' && this.offline.delete(view.id)) {
        this.alert({ title: `Tunnel ${label} is back online`, body: view.publicUrl ?? '' });
      } else if (view.status === 'disabled') {
        this.offline.delete(view.id);
      }
    }
  }

  /** Each forwarded request once it has ended: a success resets its tunnel's failures. */
  ended(request: EndedRequest): void {
    if (request.errorCode === undefined) this.health.delete(request.tunnel);
    else if (localFailures.has(request.errorCode)) this.failed(request.tunnel, request.errorMessage ?? request.errorCode);
  }

  private failed(tunnel: string, message: string): void {
    const now = this.now();
    const health = this.health.get(tunnel) ?? { failuresAt: [], alerted: false };
    this.health.set(tunnel, health);
    health.failuresAt = [...health.failuresAt.filter((at) => now - at < this.options.windowMs), now];
    if (health.alerted || health.failuresAt.length < this.options.failuresToAlert) return;
    health.alerted = true;
    this.alert({ title: `The local service of ${tunnel} keeps failing`, body: `${health.failuresAt.length} requests in a row: ${message}` });
  }
}
