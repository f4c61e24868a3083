// WebSocket: how many connections open and stay open, and echo messages per
// second over 50 connections (each sends its next message on the echo).
import WebSocket from 'ws';
import type { BenchContext, Figure, Target } from '../context.js';

function open(target: Target): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${target.port}/`, { headers: { host: target.host }, perMessageDeflate: false });
    const timer = setTimeout(() => (ws.terminate(), resolve(undefined)), 15_000);
    ws.once('open', () => (clearTimeout(timer), resolve(ws)));
    ws.once('error', () => (clearTimeout(timer), resolve(undefined)));
  });
}

async function held(target: Target, count: number): Promise<number> {
  const sockets: (WebSocket | undefined)[] = [];
  // Opened in waves, as a browser fleet would, not as one SYN flood.
  for (let i = 0; i < count; i += 100) sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => open(target)))));
  // Held means still open a moment later, not just opened.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const alive = sockets.filter((ws) => ws?.readyState === WebSocket.OPEN).length;
  for (const ws of sockets) ws?.terminate();
  return alive;
}

async function echoRate(target: Target, seconds: number): Promise<number> {
  const sockets = (await Promise.all(Array.from({ length: 50 }, () => open(target)))).filter((ws): ws is WebSocket => ws !== undefined);
  const message = Buffer.alloc(64, 'w');
  let echoes = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.on('message', () => {
            echoes++;
            if (performance.now() < deadline) ws.send(message);
            else resolve();
          });
          ws.once('close', () => resolve());
          ws.send(message);
        }),
    ),
  );
  for (const ws of sockets) ws.terminate();
  return echoes / seconds;
}

export async function websocket(ctx: BenchContext): Promise<Figure[]> {
  const count = ctx.quick ? 200 : 1_000;
  const seconds = ctx.quick ? 2 : 5;
  const connections: Figure = { scenario: `WebSocket connections held (of ${count})`, unit: 'conns' };
  const echo: Figure = { scenario: 'WebSocket echo, 50 connections', unit: 'msg/s' };
  for (const target of [ctx.direct, ctx.tunnel]) {
    connections[target.label] = await held(target, count);
    echo[target.label] = await echoRate(target, seconds);
    ctx.say(`WebSocket ${target.label}: ${connections[target.label]} of ${count} held, ${Math.round(echo[target.label]!)} echoes/s`);
  }
  return [connections, echo];
}
