// Public tunnel URLs open in the user's browser; nothing else leaves the app.
import { shell } from 'electron';

/** Opens http: and https: URLs in the default browser; anything else is ignored. Resolves once handed over. */
export async function openExternally(url: string): Promise<void> {
  const protocol = new URL(url).protocol;
  if (protocol === 'http:' || protocol === 'https:') await shell.openExternal(url);
}
