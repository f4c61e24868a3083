// Remembers the window's size and position between runs, in a small JSON
// file beside the settings; a position no display shows any more (a monitor
// unplugged) is not restored.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { screen, type BrowserWindow, type Rectangle } from 'electron';

export interface WindowBounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The saved bounds, if there are any that a display shows at least in part. */
export function loadWindowBounds(path: string): WindowBounds | undefined {
  let bounds: Partial<WindowBounds>;
  try {
    bounds = JSON.parse(readFileSync(path, 'utf8')) as Partial<WindowBounds>;
  } catch {
    return undefined;
  }
  const { x, y, width, height } = bounds;
  if (![x, y, width, height].every((n) => typeof n === 'number' && Number.isFinite(n)) || width! < 200 || height! < 150) return undefined;
  const saved = { x: x!, y: y!, width: width!, height: height! };
  return screen.getAllDisplays().some((display) => overlaps(display.workArea, saved)) ? saved : undefined;
}

/** Saves the window's bounds when it stops moving or resizing, and when it closes. */
export function rememberWindowBounds(window: BrowserWindow, path: string, quietMs = 500): void {
  let timer: NodeJS.Timeout | undefined;
  const save = (): void => {
    clearTimeout(timer);
    if (window.isDestroyed() || window.isMinimized() || window.isFullScreen()) return;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify(window.getBounds())}\n`);
  };
  const later = (): void => {
    clearTimeout(timer);
    timer = setTimeout(save, quietMs);
  };
  window.on('resize', later);
  window.on('move', later);
  window.on('close', save);
}

function overlaps(area: Rectangle, bounds: WindowBounds): boolean {
  return bounds.x < area.x + area.width && bounds.x + bounds.width > area.x && bounds.y < area.y + area.height && bounds.y + bounds.height > area.y;
}
