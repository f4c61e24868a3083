// The name a tunnel goes by: its own, or the one the server gave it (the
// first label of its public host), so Tunnels and Inspector say the same.
import type { TunnelView } from './contract.js';

export function assignedName(tunnel: Pick<TunnelView, 'publicUrl'>): string | undefined {
  if (tunnel.publicUrl === undefined) return undefined;
  try {
    return new URL(tunnel.publicUrl).hostname.split('.')[0] || undefined;
  } catch {
    return undefined;
  }
}

export function tunnelName(tunnel: Pick<TunnelView, 'name' | 'publicUrl'>): string {
  return tunnel.name || assignedName(tunnel) || '';
}
