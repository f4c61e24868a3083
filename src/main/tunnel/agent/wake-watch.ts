// The signs that an agent's connection may not have survived, noticed
// headless: a suspend by timer drift, a network change by the interfaces'
// addresses. Either may be switched off (the app reports its own).
import { NetworkWatcher, defaultNetworkWatch, type NetworkWatcherOptions } from './network-watcher.js';
import { WakeDetector, defaultWakeDetection, type WakeDetectorOptions } from './wake-detector.js';
import type { WakeSignal } from './wake-policy.js';

export interface WakeWatchOptions {
  wakeDetection?: WakeDetectorOptions | false;
  networkWatch?: NetworkWatcherOptions | false;
}

export class WakeWatch {
  private readonly detector: WakeDetector | undefined;
  private readonly network: NetworkWatcher | undefined;

  constructor(options: WakeWatchOptions, wake: (signal: WakeSignal, sleptMs?: number) => void) {
    if (options.wakeDetection !== false) this.detector = new WakeDetector((sleptMs) => wake('clock-jump', sleptMs), options.wakeDetection ?? defaultWakeDetection);
    if (options.networkWatch !== false) this.network = new NetworkWatcher(() => wake('network-change'), options.networkWatch ?? defaultNetworkWatch);
  }

  start(): void {
    this.detector?.start();
    this.network?.start();
  }

  stop(): void {
    this.detector?.stop();
    this.network?.stop();
  }
}
