// The kernel's state of a TCP connection on this machine (Linux), read from
// /proc/net/tcp: whether a process still holds its end, whatever it queued.
import { readFile } from 'node:fs/promises';

/** States as /proc/net/tcp numbers them (include/net/tcp_states.h). */
const stateNames: Record<number, string> = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSE',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
};

/** The state of the IPv4 loopback connection from `localPort` to `remotePort`, or 'GONE'. */
export async function tcpState(localPort: number, remotePort: number): Promise<string> {
  const table = await readFile('/proc/net/tcp', 'utf8');
  for (const line of table.split('\n').slice(1)) {
    const [, local, remote, state] = line.trim().split(/\s+/);
    if (local === undefined || remote === undefined || state === undefined) continue;
    if (parseInt(local.split(':')[1]!, 16) === localPort && parseInt(remote.split(':')[1]!, 16) === remotePort) {
      return stateNames[parseInt(state, 16)] ?? state;
    }
  }
  return 'GONE';
}
