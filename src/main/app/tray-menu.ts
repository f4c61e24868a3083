// The tray menu as a pure function of state: what it lists and what each
// item does, testable without Electron. tray.ts turns it into a real menu.
import type { AgentStatus, EmbeddedServerStatus, TunnelView } from '../../shared/contract.js';

export interface TrayState {
  agent: AgentStatus;
  tunnels: readonly TunnelView[];
  embedded: EmbeddedServerStatus;
}

export interface TrayActions {
  openWindow(): void;
  setTunnelEnabled(id: string, enabled: boolean): void;
  setEmbeddedServer(running: boolean): void;
  quit(): void;
}

/** The subset of Electron's MenuItemConstructorOptions the tray uses. */
export interface TrayMenuItem {
  label?: string;
  type?: 'normal' | 'checkbox' | 'separator';
  checked?: boolean;
  enabled?: boolean;
  click?: () => void;
}

const agentWords: Record<AgentStatus['state'], string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  ready: 'Connected',
  backoff: 'Reconnecting…',
  closed: 'Stopped',
};

export function isOnline(state: TrayState): boolean {
  return state.agent.state === 'ready';
}

export function trayTooltip(state: TrayState): string {
  const online = state.tunnels.filter((t) => t.status === 'online').length;
  return `Burrow: ${agentWords[state.agent.state]} to ${state.agent.server}, ${online} of ${state.tunnels.length} tunnels online`;
}

function tunnelLabel(tunnel: TunnelView): string {
  const name = tunnel.name || '(auto)';
  const status = tunnel.status === 'error' ? ` — ${tunnel.error?.message ?? 'error'}` : tunnel.status === 'online' ? '' : ` (${tunnel.status})`;
  return `${name} → ${tunnel.target}${status}`;
}

export function buildTrayMenu(state: TrayState, actions: TrayActions): TrayMenuItem[] {
  const tunnels: TrayMenuItem[] =
    state.tunnels.length === 0
      ? [{ label: 'No tunnels yet', enabled: false }]
      : state.tunnels.map((tunnel) => ({
          label: tunnelLabel(tunnel),
          type: 'checkbox',
          checked: tunnel.enabled,
          click: () => actions.setTunnelEnabled(tunnel.id, !tunnel.enabled),
        }));
  return [
    { label: `${agentWords[state.agent.state]} · ${state.agent.server}`, enabled: false },
    { type: 'separator' },
    ...tunnels,
    { type: 'separator' },
    { label: 'Open Burrow', click: actions.openWindow },
    state.embedded.running
      ? { label: 'Stop local test server', click: () => actions.setEmbeddedServer(false) }
      : { label: 'Start local test server', click: () => actions.setEmbeddedServer(true) },
    { type: 'separator' },
    { label: 'Quit Burrow', click: actions.quit },
  ];
}
