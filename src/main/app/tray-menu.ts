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
  openInspector(): void;
  setTunnelEnabled(id: string, enabled: boolean): void;
  copyUrl(url: string): void;
  openUrl(url: string): void;
  setEmbeddedServer(running: boolean): void;
  quit(): void;
}

/** The subset of Electron's MenuItemConstructorOptions the tray uses. */
export interface TrayMenuItem {
  label?: string;
  type?: 'normal' | 'checkbox' | 'separator' | 'submenu';
  checked?: boolean;
  enabled?: boolean;
  click?: () => void;
  submenu?: TrayMenuItem[];
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

const stateWords: Record<TunnelView['status'], string> = { online: '●', connecting: '◌ connecting', error: '✕', disabled: '○ off' };

function tunnelLabel(tunnel: TunnelView): string {
  return `${stateWords[tunnel.status]} ${tunnel.name || '(auto)'} → ${tunnel.target}`;
}

/** A tunnel's submenu: where it is reachable (or why not), switch it, and its URL to copy or open. */
function tunnelMenu(tunnel: TunnelView, actions: TrayActions): TrayMenuItem {
  const url = tunnel.status === 'online' ? tunnel.publicUrl : undefined;
  const where = url ?? (tunnel.status === 'error' ? (tunnel.error?.message ?? 'error') : tunnel.status);
  const submenu: TrayMenuItem[] = [
    { label: where, enabled: false },
    { label: 'Enabled', type: 'checkbox', checked: tunnel.enabled, click: () => actions.setTunnelEnabled(tunnel.id, !tunnel.enabled) },
  ];
  if (url !== undefined) submenu.push({ label: 'Copy URL', click: () => actions.copyUrl(url) }, { label: 'Open in browser', click: () => actions.openUrl(url) });
  return { label: tunnelLabel(tunnel), type: 'submenu', submenu };
}

export function buildTrayMenu(state: TrayState, actions: TrayActions): TrayMenuItem[] {
  const tunnels: TrayMenuItem[] = state.tunnels.length === 0 ? [{ label: 'No tunnels yet', enabled: false }] : state.tunnels.map((tunnel) => tunnelMenu(tunnel, actions));
  return [
    { label: `${agentWords[state.agent.state]} · ${state.agent.server}`, enabled: false },
    { type: 'separator' },
    ...tunnels,
    { type: 'separator' },
    { label: 'Open Burrow', click: actions.openWindow },
    { label: 'Open inspector', click: actions.openInspector },
    state.embedded.running
      ? { label: 'Stop local test server', click: () => actions.setEmbeddedServer(false) }
      : { label: 'Start local test server', click: () => actions.setEmbeddedServer(true) },
    { type: 'separator' },
    { label: 'Quit Burrow', click: actions.quit },
  ];
}
