// The app contract for the UI: in Electron the preload provides a transport
// (window.burrowTransport); in a browser (the web inspector) it runs over a
// WebSocket, with the token taken from the URL fragment, made again by itself
// whenever it is lost (burrow restarted, the machine slept).
import { buildApi, type ContractTransport } from '../../shared/contract-client';
import type { BurrowApi } from '../../shared/contract';
import { inspectorApiUrl, inspectorTokenCheckUrl } from '../../shared/inspector-protocol';
import { switchableTransport, type SwitchableTransport } from '../../shared/switchable-transport';
import { webSocketTransport } from '../../shared/websocket-transport';
import type { AppState } from './store/app-store';

declare global {
  interface Window {
    burrowTransport?: ContractTransport;
  }
}

export interface ApiLink {
  api: BurrowApi;
  /** True when the api works from the start (Electron); otherwise `connected` says when. */
  connectedNow: boolean;
}

export interface LinkCallbacks {
  state(connection: AppState['connection']): void;
  /** Each time a connection is made: load what the UI shows. */
  connected(): void;
}

const firstRetryMs = 500;
const maxRetryMs = 5_000;

export function connectApi(callbacks: LinkCallbacks): ApiLink {
  if (window.burrowTransport !== undefined) return { api: buildApi(window.burrowTransport), connectedNow: true };
  const transport = switchableTransport();
  // A new URL pasted into this tab differs only in its fragment (a restarted burrow prints a new token), which
  // browsers do not load: the page kept its old token and said to open the new URL. It starts again with it.
  window.addEventListener('hashchange', () => window.location.reload());
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (token === null) callbacks.state({ state: 'failed', error: 'Open the inspector with the URL the burrow command printed (it carries the token).' });
  else void keepConnected(token, transport, callbacks);
  return { api: buildApi(transport), connectedNow: false };
}

type TokenCheck = 'accepted' | 'refused' | 'unreachable';

async function checkToken(token: string): Promise<TokenCheck> {
  try {
    const response = await fetch(inspectorTokenCheckUrl(token), { cache: 'no-store' });
    return response.status === 204 ? 'accepted' : response.status === 401 ? 'refused' : 'unreachable';
  } catch {
    return 'unreachable';
  }
}

function openSocket(token: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const socket = new WebSocket(inspectorApiUrl(window.location.host, token));
    socket.addEventListener('open', () => resolve(socket));
    socket.addEventListener('error', () => resolve(undefined));
  });
}

async function keepConnected(token: string, transport: SwitchableTransport, callbacks: LinkCallbacks): Promise<void> {
  let everConnected = false;
  let retryMs = firstRetryMs;
  for (;;) {
    const check = await checkToken(token);
    if (check === 'refused') {
      callbacks.state({
        state: 'failed',
        error: everConnected
          ? 'burrow restarted with a new token: open the inspector URL it printed.'
          : "The inspector refused this link's token: open the URL the burrow command printed.",
      });
      return;
    }
    const socket = check === 'accepted' ? await openSocket(token) : undefined;
    if (socket !== undefined) {
      transport.use(webSocketTransport(socket));
      everConnected = true;
      retryMs = firstRetryMs;
      callbacks.connected();
      await new Promise((resolve) => socket.addEventListener('close', resolve));
      transport.use(undefined);
      callbacks.state({ state: 'lost', error: 'Lost the connection to burrow; reconnecting…' });
      continue;
    }
    callbacks.state({
      state: everConnected ? 'lost' : 'connecting',
      error: `burrow is not answering at ${window.location.host}; trying again…`,
    });
    await new Promise((resolve) => setTimeout(resolve, retryMs));
    retryMs = Math.min(retryMs * 2, maxRetryMs);
  }
}
