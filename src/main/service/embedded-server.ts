// The "local test server": an in-process tunnel server on loopback plus the
// demo backends, so a new user sees traffic within a minute.
import type { EmbeddedServerStatus } from '../../shared/contract.js';
import { TunnelServer } from '../tunnel/server/tunnel-server.js';
import { startDemoBackends, type DemoBackends } from './demo-backends.js';

export class EmbeddedServer {
  private constructor(
    private readonly server: TunnelServer,
    private readonly backends: DemoBackends,
  ) {}

  static async start(publicPort: number): Promise<EmbeddedServer> {
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
