// Heartbeats on a control stream, the same on both sides: one sent every
// interval, and each one from the peer answered at once with an echo of its
// time, so each side measures the round trip and can ask the other for proof
// of life at any moment (a probe, after a wake or a network change).
import type { Heartbeat } from '../gen/burrow/v1/tunnel.js';

interface PendingProbe {
  sentAt: number;
  answered: (alive: boolean) => void;
  timer: NodeJS.Timeout;
}

export class Heartbeats {
  private timer: NodeJS.Timeout | undefined;
  private readonly probes = new Set<PendingProbe>();
  private lastSentAt = 0;

  constructor(
    private readonly send: (heartbeat: Heartbeat) => void,
    private readonly intervalMs: number,
    /** A round trip measured, in milliseconds. */
    private readonly onRoundTrip: (ms: number) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** Beats now (a round trip is known at once) and every interval after. */
  start(): void {
    this.stop();
    this.beat();
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const probe of this.probes) {
      clearTimeout(probe.timer);
      probe.answered(false);
    }
    this.probes.clear();
  }

  /** A heartbeat from the peer: answer it, or take the round trip it closes. */
  received(heartbeat: Heartbeat): void {
    const echo = Number(heartbeat.echoUnixMs);
    if (echo === 0) {
      this.send({ sentAtUnixMs: BigInt(this.now()), echoUnixMs: heartbeat.sentAtUnixMs });
      return;
    }
    this.onRoundTrip(Math.max(0, this.now() - echo));
    for (const probe of this.probes) {
      if (probe.sentAt > echo) continue;
      this.probes.delete(probe);
      clearTimeout(probe.timer);
      probe.answered(true);
    }
  }

  /** Sends a heartbeat now; resolves whether an answer to it (or to a later one) came within `timeoutMs`. */
  probe(timeoutMs: number): Promise<boolean> {
    return new Promise((answered) => {
      const sentAt = this.beat();
      const probe: PendingProbe = {
        sentAt,
        answered,
        timer: setTimeout(() => {
          this.probes.delete(probe);
          answered(false);
        }, timeoutMs),
      };
      probe.timer.unref();
      this.probes.add(probe);
    });
  }

  private beat(): number {
    // Distinct times, so an echo names the one heartbeat it answers.
    const sentAt = Math.max(this.now(), this.lastSentAt + 1);
    this.lastSentAt = sentAt;
    this.send({ sentAtUnixMs: BigInt(sentAt), echoUnixMs: 0n });
    return sentAt;
  }
}
