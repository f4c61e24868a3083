// The window's keyboard shortcuts, listed once: the help overlay shows this
// list and the key handler acts on it. Keys typed into a field are the
// field's, not shortcuts.
import { useEffect } from 'react';
import type { ViewName } from '../store/app-store';

export interface Shortcut {
  keys: string;
  does: string;
}

export const viewKeys: [key: string, view: ViewName][] = [
  ['1', 'tunnels'],
  ['2', 'inspector'],
  ['3', 'throughput'],
  ['4', 'connection'],
  ['5', 'settings'],
];

export const shortcuts: Shortcut[] = [
  { keys: '1 – 5', does: 'Tunnels, Inspector, Throughput, Connection, Settings' },
  { keys: '/', does: 'Inspector: search the requests' },
  { keys: '↑ ↓ Home End', does: 'Inspector list: move to another request (its detail follows)' },
  { keys: 'Enter', does: 'Inspector list: open the request' },
  { keys: 'Esc', does: 'Close this list, or the open request' },
  { keys: '?', does: 'Show or hide this list' },
];

export function useShortcuts(handlers: { view(view: ViewName): void; toggleHelp(): void; closeHelp(): void; search(): void }): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
      const view = viewKeys.find(([key]) => key === event.key)?.[1];
      if (view !== undefined) handlers.view(view);
      else if (event.key === '?') handlers.toggleHelp();
      else if (event.key === '/') handlers.search();
      else if (event.key === 'Escape') handlers.closeHelp();
      else return;
      event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [handlers]);
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}
