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
  /** Undefined until the interfaces were read once: a first read that failed is no change when the next succeeds. */
  private last: string | undefined;
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
    if (now === undefined || now === this.last) return;
    const first = this.last === undefined;
    this.last = now;
    if (!first) this.onChange();
  }

  /** The external addresses, by interface, in a stable order; undefined when they cannot be read. */
  private signature(): string | undefined {
    let interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
    try {
      interfaces = this.interfaces();
    } catch {
      // Out of file descriptors (EMFILE), Node cannot read them: the throw, in a timer, ended the agent.
      return undefined;
    }
    const entries: string[] = [];
    for (const [name, infos] of Object.entries(interfaces)) {
      for (const info of infos ?? []) if (!info.internal) entries.push(`${name} ${info.address}`);
    }
    return entries.sort().join('\n');
  }
}
