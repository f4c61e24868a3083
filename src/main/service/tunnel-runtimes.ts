// What each configured tunnel is doing now, as the agent reports it, and the
// views the UI shows: its configuration joined with that state.
import type { TunnelConfig, TunnelView } from '../../shared/contract.js';
import { ErrorCode } from '../../shared/error-codes.js';

type TunnelRuntime = Pick<TunnelView, 'status' | 'publicUrl' | 'error'>;

export class TunnelRuntimes {
  private readonly runtimes = new Map<string, TunnelRuntime>();

  /** Every tunnel back to its starting state (a new agent is connecting). */
  reset(tunnels: readonly TunnelConfig[]): void {
    for (const config of tunnels) this.runtimes.set(config.id, { status: config.enabled ? 'connecting' : 'disabled' });
  }

  connecting(id: string): void {
    this.runtimes.set(id, { status: 'connecting' });
  }

  disabled(id: string): void {
    this.runtimes.set(id, { status: 'disabled' });
  }

  live(id: string, publicUrl: string): void {
    this.runtimes.set(id, { status: 'online', publicUrl });
  }

  /** False when `id` is no tunnel of ours (the report concerns something else). */
  failed(id: string, code: string, message: string): boolean {
    if (!this.runtimes.has(id)) return false;
    this.runtimes.set(id, code === ErrorCode.TunnelOffline ? { status: 'connecting' } : { status: 'error', error: { code, message } });
    return true;
  }

  forget(id: string): void {
    this.runtimes.delete(id);
  }

  view(config: TunnelConfig): TunnelView {
    return { ...config, ...(this.runtimes.get(config.id) ?? { status: config.enabled ? 'connecting' : 'disabled' }) };
  }
}
