// The fields that tell a service who the client is: what the edge takes off
// requests from peers it does not trust (server/forwarded-fields.ts), and
// what an agent takes off itself behind an edge that does not say it did.

/** Fields that tell a service who the client is, besides X-Forwarded-*. */
const clientFieldNames = new Set(['forwarded', 'x-real-ip', 'true-client-ip', 'x-client-ip', 'client-ip', 'x-cluster-client-ip', 'cf-connecting-ip']);

/**
 * A field only a trusted proxy may send: X-Forwarded-* (-For, -Proto,
 * -Host, -Port, -Prefix...), Forwarded, X-Real-IP and the like. Spelled
 * with underscores too: CGI-style servers (Rack, WSGI, ASGI) read
 * X-Forwarded_Proto as X-Forwarded-Proto.
 */
export function isForwardedField(name: string): boolean {
  const normal = name.toLowerCase().replaceAll('_', '-');
  return normal.startsWith('x-forwarded-') || clientFieldNames.has(normal);
}
