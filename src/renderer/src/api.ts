// The app contract for the UI: in Electron the preload provides a transport
// (window.burrowTransport); in a browser (the web inspector) it runs over a
// WebSocket, with the token taken from the URL fragment.
import { buildApi, type ContractTransport } from '../../shared/contract-client';
import type { BurrowApi } from '../../shared/contract';
import { inspectorApiUrl } from '../../shared/inspector-protocol';
import { webSocketTransport } from '../../shared/websocket-transport';

declare global {
  interface Window {
    burrowTransport?: ContractTransport;
  }
}

export async function connectApi(onDisconnect: (reason: string) => void): Promise<BurrowApi> {
  if (window.burrowTransport !== undefined) return buildApi(window.burrowTransport);
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (token === null) throw new Error('Open the inspector with the URL the burrow command printed (it carries the token).');
  const socket = new WebSocket(inspectorApiUrl(window.location.host, token));
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('error', () => reject(new Error('Cannot reach the inspector.')));
  });
  socket.addEventListener('close', () => onDisconnect('Lost the connection to the inspector. Reload the page once burrow runs again.'));
  return buildApi(webSocketTransport(socket));
}
