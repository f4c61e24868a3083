// How the agent presents itself to the server over gRPC (credentials and
// the token), and how it reads what went wrong with a connection.
import * as grpc from '@grpc/grpc-js';

export interface AgentTls {
  /** PEM certificate(s) to trust instead of the system's roots (e.g. a self-signed server's). */
  ca?: string;
  /** Skip verifying the server's certificate (encrypted, but anyone could be answering). */
  insecure?: boolean;
}

export function channelCredentials(tls: AgentTls | undefined): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca ? Buffer.from(tls.ca) : null, null, null, tls.insecure ? { rejectUnauthorized: false } : {});
}

/** Call metadata carrying the token, if any. */
export function tokenMetadata(token: string | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/** Whether grpc-js is saying the server's certificate is not trusted or does not match: retrying cannot fix that. */
export function isCertificateProblem(error: grpc.ServiceError): boolean {
  return /certificate|self[- ]signed|altname|CERT_|unable to verify/i.test(error.details);
}

/**
 * What went wrong with a connection, without grpc-js's frame around it ("No
 * connection established. Last error: Error: connect ECONNREFUSED
 * 127.0.0.1:7835. Resolution note: ") and the time it adds to some.
 */
export function connectionProblem(details: string): string {
  const last = /Last error: (?:Error: )?([\s\S]*?)\.?\s*(?:Resolution note:[\s\S]*)?$/.exec(details)?.[1] ?? details;
  return last.replace(/ \(\d{4}-\d\d-\d\dT[\d:.]+Z\)/, '').trim();
}


export function describeGrpcError(error: grpc.ServiceError, server: string, tls: boolean): string {
  if (error.code !== grpc.status.UNAVAILABLE) return `control stream failed: ${error.details || error.message}`;
  const problem = connectionProblem(error.details);
  // A server that serves TLS closes a cleartext connection at once, which grpc-js tells as "Failed to connect"
  // (a reset or refusal is another story: no hint there).
  const hint = tls || problem !== 'Failed to connect' ? '' : '; if it serves TLS, connect with --tls, or --ca FILE for its certificate';
  return `cannot reach the server at ${server} (${problem}${hint})`;
}
