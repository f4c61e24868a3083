// A GET sent straight through the agent's local HTTP client, resolved once
// its answer has been read whole: for tests of the client's pools and sockets.
import type { LocalHttpClient } from '../../src/main/tunnel/agent/local-http-client.js';
import type { LocalTarget } from '../../src/main/tunnel/agent/local-target.js';

export function localGet(client: LocalHttpClient, target: LocalTarget): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    client.dispatch(target, { method: 'GET', path: '/', headers: ['Host', 'local'], body: undefined, chunked: false, trailers: () => [] }, {
      onConnect: () => {},
      onHeaders: () => {},
      onData: () => true,
      onComplete: () => resolve(),
      onError: reject,
    }),
  );
}
