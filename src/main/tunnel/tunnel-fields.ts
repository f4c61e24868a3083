// A tunnel's fields as users give them (command line, config file, the app),
// checked one way and worded one way: each caller only says where the field
// came from and which error to raise.
import { echoed } from '../../shared/input-echo.js';
import { parseLocalTarget } from './agent/local-target.js';
import type { TunnelProtocol } from './agent/tunnel-registrations.js';
import { isValidTunnelName } from './tunnel-names.js';

export interface TunnelFields {
  /** '' lets the server pick. */
  name: string;
  protocol: TunnelProtocol;
  /** PORT or HOST:PORT of the local service, as given (trimmed). */
  target: string;
}

export type TunnelField = keyof TunnelFields;

/** A field that does not check out; the message starts with the field's name. */
export class TunnelFieldError extends Error {
  constructor(
    readonly field: TunnelField,
    message: string,
  ) {
    super(message);
    this.name = 'TunnelFieldError';
  }
}

/** The checked fields, or a TunnelFieldError; an absent protocol is http. */
export function checkTunnelFields(input: { name?: unknown; protocol?: unknown; target?: unknown }): TunnelFields {
  const { name = '', protocol = 'http', target } = input;
  if (typeof name !== 'string' || (name !== '' && !isValidTunnelName(name))) {
    throw new TunnelFieldError('name', `name must be a tunnel name (lowercase letters, digits and inner hyphens, at most 63), got ${typeof name === 'string' ? JSON.stringify(echoed(name)) : echoed(name)}`);
  }
  if (protocol !== 'http' && protocol !== 'grpc') throw new TunnelFieldError('protocol', 'protocol must be http or grpc');
  if (typeof target !== 'string' && typeof target !== 'number') throw new TunnelFieldError('target', 'target must be PORT or HOST:PORT');
  try {
    parseLocalTarget(String(target));
  } catch (error) {
    throw new TunnelFieldError('target', `target: ${(error as Error).message}`);
  }
  return { name, protocol, target: String(target).trim() };
}
