// Draws Burrow's icons (a burrow: a dark arch opening in a round mound) as
// PNGs with nothing but zlib, so `node scripts/make-icons.mjs` regenerates
// resources/ anywhere.
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
};

/** pixel(x, y) in [0,1)² returns [r, g, b, a]. */
function png(size, pixel) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel((x + 0.5) / size, (y + 0.5) / size);
      raw.set([r, g, b, a], y * (size * 4 + 1) + 1 + x * 4);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const inMound = (x, y) => (x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.44 ** 2;
const inArch = (x, y) => y > 0.42 && y < 0.82 && (x - 0.5) ** 2 / 0.2 ** 2 + ((y - 0.6) / 0.22) ** 2 < 1 && Math.abs(x - 0.5) < 0.2;

const colour = (x, y) => (inArch(x, y) ? [32, 24, 20, 255] : inMound(x, y) ? [196, 132, 72, 255] : [0, 0, 0, 0]);
// Disconnected: the same burrow in grey, so the tray shows the state at a glance.
const grey = (x, y) => (inArch(x, y) ? [60, 60, 60, 255] : inMound(x, y) ? [150, 150, 150, 255] : [0, 0, 0, 0]);
// macOS template images: black shape, transparency carries the form (faint when disconnected).
const template = (alpha) => (x, y) => (inMound(x, y) && !inArch(x, y) ? [0, 0, 0, alpha] : [0, 0, 0, 0]);

mkdirSync('resources', { recursive: true });
writeFileSync('resources/icon.png', png(512, colour));
writeFileSync('resources/tray.png', png(32, colour));
writeFileSync('resources/tray-offline.png', png(32, grey));
writeFileSync('resources/trayTemplate.png', png(16, template(255)));
writeFileSync('resources/trayTemplate@2x.png', png(32, template(255)));
writeFileSync('resources/trayOfflineTemplate.png', png(16, template(90)));
writeFileSync('resources/trayOfflineTemplate@2x.png', png(32, template(90)));
console.log('wrote resources/: icon.png, tray.png, tray-offline.png, trayTemplate.png, trayTemplate@2x.png, trayOfflineTemplate.png, trayOfflineTemplate@2x.png');
