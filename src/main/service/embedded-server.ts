// The "local test server": an in-process tunnel server on loopback plus the
// demo backends, so a new user sees traffic within a minute.
import type { EmbeddedServerStatus } from '../../shared/contract.js';
import type { TunnelServer } from '../tunnel/server/tunnel-server.js';
import type { DemoBackends } from './demo-backends.js';

export class EmbeddedServer {
  private constructor(
    private readonly server: TunnelServer,
    private readonly backends: DemoBackends,
  ) {}

  static async start(publicPort: number): Promise<EmbeddedServer> {
    // Loaded only when started: an agent that never starts it (the command's) does not carry a server's code.
    const [{ TunnelServer }, { startDemoBackends }] = await Promise.all([import('../tunnel/server/tunnel-server.js'), import('./demo-backends.js')]);
    const backends = await startDemoBackends();
    const server = new TunnelServer({ controlAddress: '127.0.0.1:0', publicAddress: `127.0.0.1:${publicPort}`, domain: 'localhost' });
    try {
      await server.start();
    } catch (error) {
      await backends.close();
      throw error;
    }
    return new EmbeddedServer(server, backends);
  }

  get controlAddress(): string {
    return `127.0.0.1:${this.server.controlPort}`;
  }

  status(): EmbeddedServerStatus {
    return {
      running: true,
      controlAddress: this.controlAddress,
      publicBaseUrl: this.server.publicUrl('*'),
      demoTargets: {
        http: `127.0.0.1:${this.backends.httpPort}`,
        websocket: `127.0.0.1:${this.backends.httpPort}`,
        grpc: `127.0.0.1:${this.backends.grpcPort}`,
      },
    };
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.backends.close();
  }
}

/** The local test server as the app switches it: on or off, and why it last failed to start. */
export class EmbeddedServerSwitch {
  private server: EmbeddedServer | undefined;
  private error: string | undefined;
  /**
   * Each switch waits for the one before: a stop that came while a start
   * was under way found nothing to stop, and the server it started (with
   * no token) listened on, held by nobody.
   */
  private switching: Promise<unknown> = Promise.resolve();

  /** The running server's control address. */
  get controlAddress(): string | undefined {
    return this.server?.controlAddress;
  }

  /** Starts it unless running; a failure is kept for status() and returned. */
  turnOn(publicPort: number): Promise<string | undefined> {
    return this.inTurn(async () => {
      if (this.server !== undefined) return undefined;
      try {
        this.server = await EmbeddedServer.start(publicPort);
        this.error = undefined;
      } catch (error) {
        this.error = `could not start the local test server: ${(error as Error).message}`;
      }
      return this.error;
    });
  }

  turnOff(): Promise<void> {
    return this.inTurn(async () => {
      const server = this.server;
      this.server = undefined;
      await server?.stop();
    });
  }

  private inTurn<T>(step: () => Promise<T>): Promise<T> {
    const done = this.switching.then(step);
    this.switching = done.catch(() => {});
    return done;
  }

  status(): EmbeddedServerStatus {
    if (this.server !== undefined) return this.server.status();
    return { running: false, ...(this.error !== undefined && { error: this.error }) };
  }
}
