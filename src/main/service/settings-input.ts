// Checks what the UI sends to change settings or tunnels, field by field,
// with a stable code for anything it refuses.
import type { Settings, TunnelConfig } from '../../shared/contract.js';
import { BurrowError, ErrorCode } from '../../shared/error-codes.js';
import { echoed } from '../../shared/input-echo.js';
import { addressList, isHostPort } from '../tunnel/host-port.js';
import { checkTunnelFields, TunnelFieldError } from '../tunnel/tunnel-fields.js';

const invalid = (message: string): BurrowError => new BurrowError(ErrorCode.InvalidInput, message);

export function requireBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalid(`${name} must be true or false`);
  return value;
}

/** The settings after applying `input` to `current`; refuses the whole change if any field is bad. */
export function nextSettings(current: Settings, input: unknown): Settings {
  if (typeof input !== 'object' || input === null) throw invalid('settings must be an object');
  const change = input as Partial<Record<keyof Settings, unknown>>;
  const next: Settings = { ...current };
  if (change.serverAddress !== undefined) {
    const addresses = typeof change.serverAddress === 'string' ? addressList(change.serverAddress) : [];
    if (addresses.length === 0 || !addresses.every(isHostPort)) {
      throw invalid(`server address must be HOST:PORT (or several, separated by commas), got "${echoed(change.serverAddress)}"`);
    }
    next.serverAddress = addresses.join(', ');
  }
  if (change.token !== undefined) {
    if (typeof change.token !== 'string') throw invalid('token must be a string');
    next.token = change.token;
  }
  if (change.tls !== undefined) {
    if (change.tls !== 'off' && change.tls !== 'verify' && change.tls !== 'insecure') throw invalid('tls must be off, verify or insecure');
    next.tls = change.tls;
  }
  if (change.caFile !== undefined) {
    if (typeof change.caFile !== 'string') throw invalid('caFile must be a path');
    next.caFile = change.caFile;
  }
  if (change.embeddedPublicPort !== undefined) {
    const port = change.embeddedPublicPort;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) throw invalid('embedded public port must be 0-65535');
    next.embeddedPublicPort = port;
  }
  for (const flag of ['embeddedServer', 'notifications', 'startAtLogin', 'startHidden'] as const) {
    if (change[flag] !== undefined) next[flag] = requireBoolean(change[flag], flag);
  }
  return next;
}

/** Whether the agent must reconnect for these settings. */
export function connectionChanged(before: Settings, after: Settings): boolean {
  return (['serverAddress', 'token', 'tls', 'caFile', 'embeddedServer'] as const).some((key) => before[key] !== after[key]);
}

/** A tunnel's name, protocol and target, checked, and the name unique among `others`. */
export function tunnelFields(input: unknown, others: readonly TunnelConfig[]): Pick<TunnelConfig, 'name' | 'protocol' | 'target'> {
  if (typeof input !== 'object' || input === null) throw invalid('tunnel must be an object');
  let fields: Pick<TunnelConfig, 'name' | 'protocol' | 'target'>;
  try {
    fields = checkTunnelFields(input);
  } catch (error) {
    if (error instanceof TunnelFieldError) throw invalid(error.message);
    throw error;
  }
  if (fields.name !== '' && others.some((t) => t.name === fields.name)) throw new BurrowError(ErrorCode.Conflict, `a tunnel named "${fields.name}" already exists`);
  return fields;
}
