// Notices that the machine's network changed (an address came, went or
// moved to another interface: a new Wi-Fi, a VPN, a cable) by comparing the
// interface addresses now and then. An open TCP connection may not notice
// for a long time that its path is gone; this tells the agent to check.
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { Poller } from './poller.js';

export interface NetworkWatcherOptions {
  intervalMs: number;
  /** The machine's interfaces; tests give their own. */
  interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

export const defaultNetworkWatch: NetworkWatcherOptions = { intervalMs: 3_000 };

export class NetworkWatcher extends Poller {
  private last = '';
  private readonly interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>;

  constructor(
    private readonly onChange: () => void,
    options: NetworkWatcherOptions = defaultNetworkWatch,
  ) {
    super(options.intervalMs);
    this.interfaces = options.interfaces ?? networkInterfaces;
  }

  protected begin(): void {
    this.last = this.signature();
  }

  check(): void {
    const now = this.signature();
    if (now === this.last) return;
    this.last = now;
    this.onChange();
  }

  /** The external addresses, by interface, in a stable order. */
  private signature(): string {
    const entries: string[] = [];
    for (const [name, infos] of Object.entries(this.interfaces())) {
      for (const info of infos ?? []) if (!info.internal) entries.push(`${name} ${info.address}`);
    }
    return entries.sort().join('\n');
  }
}
