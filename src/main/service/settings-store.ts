// Tunnels and settings persisted as one JSON file, written atomically
// (temp file + rename) so a crash never leaves half a file. A file that
// cannot be read is set aside, not fatal: the app starts with defaults.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Settings, TunnelConfig } from '../../shared/contract.js';

export interface PersistedState {
  settings: Settings;
  tunnels: TunnelConfig[];
}

export const defaultSettings: Settings = {
  serverAddress: '127.0.0.1:7835',
  token: '',
  tls: 'off',
  caFile: '',
  embeddedServer: false,
  embeddedPublicPort: 0,
  notifications: true,
  startAtLogin: false,
  startHidden: false,
};

export interface LoadResult {
  state: PersistedState;
  /** False when there was no file yet. */
  existed: boolean;
  /** Set when the file was unreadable and moved aside. */
  warning?: string;
}

export class SettingsStore {
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  load(): LoadResult {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: { settings: { ...defaultSettings }, tunnels: [] }, existed: false };
      throw error;
    }
    try {
      return { state: parseState(JSON.parse(text)), existed: true };
    } catch (error) {
      const aside = `${this.path}.corrupt-${Date.now()}`;
      renameSync(this.path, aside);
      return {
        state: { settings: { ...defaultSettings }, tunnels: [] },
        existed: false,
        warning: `settings file ${this.path} was unreadable (${(error as Error).message}); moved to ${aside} and started fresh`,
      };
    }
  }

  /** Writes are queued so the last save wins and no two interleave. */
  save(state: PersistedState): Promise<void> {
    const text = `${JSON.stringify(state, null, 2)}\n`;
    this.writing = this.writing.then(async () => {
      mkdirSync(dirname(this.path), { recursive: true });
      const temp = `${this.path}.${randomUUID()}.tmp`;
      await writeFile(temp, text, { mode: 0o600 });
      await rename(temp, this.path);
    });
    return this.writing;
  }
}

function parseState(raw: unknown): PersistedState {
  if (typeof raw !== 'object' || raw === null) throw new Error('not a JSON object');
  const { settings = {}, tunnels = [] } = raw as { settings?: unknown; tunnels?: unknown };
  if (typeof settings !== 'object' || settings === null) throw new Error('"settings" is not an object');
  if (!Array.isArray(tunnels)) throw new Error('"tunnels" is not a list');
  const s = settings as Record<string, unknown>;
  const merged: Settings = {
    serverAddress: typeof s.serverAddress === 'string' ? s.serverAddress : defaultSettings.serverAddress,
    token: typeof s.token === 'string' ? s.token : defaultSettings.token,
    tls: s.tls === 'verify' || s.tls === 'insecure' ? s.tls : 'off',
    caFile: typeof s.caFile === 'string' ? s.caFile : defaultSettings.caFile,
    embeddedServer: typeof s.embeddedServer === 'boolean' ? s.embeddedServer : defaultSettings.embeddedServer,
    embeddedPublicPort: typeof s.embeddedPublicPort === 'number' ? s.embeddedPublicPort : defaultSettings.embeddedPublicPort,
    notifications: typeof s.notifications === 'boolean' ? s.notifications : defaultSettings.notifications,
    startAtLogin: typeof s.startAtLogin === 'boolean' ? s.startAtLogin : defaultSettings.startAtLogin,
    startHidden: typeof s.startHidden === 'boolean' ? s.startHidden : defaultSettings.startHidden,
  };
  return {
    settings: merged,
    tunnels: tunnels.map((t, i) => {
      const entry = t as Record<string, unknown>;
      if (typeof entry !== 'object' || entry === null) throw new Error(`tunnels[${i}] is not an object`);
      if (typeof entry.target !== 'string') throw new Error(`tunnels[${i}].target is missing`);
      return {
        id: typeof entry.id === 'string' ? entry.id : randomUUID(),
        name: typeof entry.name === 'string' ? entry.name : '',
        protocol: entry.protocol === 'grpc' ? 'grpc' : 'http',
        target: entry.target,
        enabled: entry.enabled !== false,
      };
    }),
  };
}
