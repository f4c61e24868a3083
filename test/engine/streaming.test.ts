// 1 GiB through real `burrow server` and `burrow http` processes: bodies
// stream in chunks both ways and neither process buffers them.
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rssBytes, spawnCli, spawnCliServer, startBackend, type Backend, type CliProcess } from '../helpers/common.js';

const totalBytes = 1024 * 1024 * 1024;
/** Growth over the idle RSS that would mean bodies are being buffered. */
const maxRssGrowth = 100 * 1024 * 1024;

let backend: Backend;
let server: CliProcess;
let agent: CliProcess;
let publicPort: number;

const randomBlock = randomBytes(256 * 1024);

/** Random-looking bytes in which every block differs (its index is stamped in), so reordering would show. */
function generated(total: number): Readable {
  let sent = 0;
  let index = 0;
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const block = Buffer.from(randomBlock.subarray(0, Math.min(randomBlock.length, total - sent)));
      block.writeUInt32BE(index++, 0);
      sent += block.length;
      this.push(block);
    },
  });
}

function sampleRss(pids: number[]): { peaks: number[]; stop(): void } {
  const peaks = pids.map(rssBytes);
  const timer = setInterval(() => pids.forEach((pid, i) => (peaks[i] = Math.max(peaks[i], rssBytes(pid)))), 50);
  return { peaks, stop: () => clearInterval(timer) };
}

beforeAll(async () => {
  backend = await startBackend((req, res) => {
    if (req.url === '/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      generated(totalBytes).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    req.pipe(res); // echo, streaming: the response starts before the upload ends
  });
  const started = await spawnCliServer(['--token', 'stream-test']);
  server = started.process;
  publicPort = started.publicPort;
  agent = spawnCli(['http', String(backend.port), '--name', 'big', '--server', started.control, '--no-inspect'], { BURROW_TOKEN: 'stream-test' });
  await agent.waitForLine(/^tunnel big: /);
});

afterAll(async () => {
  await agent?.kill();
  await server?.kill();
  await backend?.close();
});

describe('streaming 1 GiB', () => {
  it('echoes a 1 GiB upload with matching SHA-256, responding before the upload ends, with bounded memory', async () => {
    const rss = sampleRss([server.child.pid!, agent.child.pid!]);
    const idle = [...rss.peaks];
    const sentHash = createHash('sha256');
    const receivedHash = createHash('sha256');
    let uploadEnded = false;
    let firstByteBeforeUploadEnded: boolean | undefined;
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: publicPort, agent: false, method: 'POST', path: '/echo', headers: { host: 'big.localhost', 'content-type': 'application/octet-stream' } },
        (res) => {
          res.on('data', (chunk: Buffer) => {
            firstByteBeforeUploadEnded ??= !uploadEnded;
            received += chunk.length;
            receivedHash.update(chunk);
          });
          res.on('end', resolve);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      const source = generated(totalBytes);
      source.on('data', (chunk: Buffer) => sentHash.update(chunk));
      source.on('end', () => (uploadEnded = true));
      source.pipe(req);
    });
    rss.stop();
    expect(received).toBe(totalBytes);
    expect(receivedHash.digest('hex')).toBe(sentHash.digest('hex'));
    expect(firstByteBeforeUploadEnded).toBe(true);
    rss.peaks.forEach((peak, i) => expect(peak - idle[i]).toBeLessThan(maxRssGrowth));
  }, 180_000);

  it('streams a 1 GiB download with matching SHA-256 and bounded memory', async () => {
    const rss = sampleRss([server.child.pid!, agent.child.pid!]);
    const idle = [...rss.peaks];
    const expected = createHash('sha256');
    await new Promise<void>((resolve) => {
      const source = generated(totalBytes);
      source.on('data', (chunk: Buffer) => expected.update(chunk));
      source.on('end', resolve);
    });
    const receivedHash = createHash('sha256');
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      request({ host: '127.0.0.1', port: publicPort, agent: false, path: '/download', headers: { host: 'big.localhost' } }, (res) => {
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          receivedHash.update(chunk);
        });
        res.on('end', resolve);
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    rss.stop();
    expect(received).toBe(totalBytes);
    expect(receivedHash.digest('hex')).toBe(expected.digest('hex'));
    rss.peaks.forEach((peak, i) => expect(peak - idle[i]).toBeLessThan(maxRssGrowth));
  }, 180_000);
});
