// A look taken every interval on a timer that never keeps the process
// alive: what the wake detector and the network watcher share.

export abstract class Poller {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  start(): void {
    this.stop();
    this.begin();
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Notes where looking starts from. */
  protected abstract begin(): void;

  /** One look, as the timer takes it. */
  abstract check(): void;
}
