// `--admin [HOST:PORT]` and `--admin-token`, the same on the server and the
// agent commands: loopback by default, elsewhere only with a token.
import { AdminServer, adminExposureProblem, type AdminEndpoints } from '../admin/admin-server.js';
import { parseHostPort } from '../tunnel/host-port.js';
import { UsageError } from './usage-error.js';

/** Where a bare --admin serves: the server and an agent on ports of their own, so that one machine runs both. */
export const defaultAdminAddress = { server: '127.0.0.1:7836', agent: '127.0.0.1:7837' } as const;

export interface AdminFlags {
  /** Where to serve the admin endpoints; absent: nowhere. */
  admin?: string;
  adminToken?: string;
}

export interface AdminPlace {
  address: string;
  token: string | undefined;
}

/** The admin address and token to serve with, or undefined when --admin is not given; a UsageError when not allowed. */
export function adminAddress(flags: AdminFlags): AdminPlace | undefined {
  const token = flags.adminToken ?? (process.env.BURROW_ADMIN_TOKEN || undefined);
  if (flags.admin === undefined) {
    if (flags.adminToken !== undefined) throw new UsageError('--admin-token needs --admin');
    return undefined;
  }
  const problem = adminExposureProblem(parseHostPort(flags.admin).host, token);
  if (problem !== undefined) throw new UsageError(`--admin: ${problem}`);
  return { address: flags.admin, token };
}

export function startAdmin({ address, token }: AdminPlace, endpoints: AdminEndpoints): Promise<AdminServer> {
  return AdminServer.start({ ...parseHostPort(address), token, endpoints });
}
