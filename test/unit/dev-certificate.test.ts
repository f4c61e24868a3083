// --dev-tls mints a certificate per name a client asks for by SNI and keeps
// a bounded number: the one least recently used goes first, so that a client
// cycling through made-up names does not push out a tunnel in use (a review
// found the oldest minted went first, however often it was served).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecureContext } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeDevCertificate, type DevCertificate } from '../../src/main/tunnel/server/dev-certificate.js';

let certificate: DevCertificate;

beforeAll(async () => {
  certificate = await makeDevCertificate('localhost', mkdtempSync(join(tmpdir(), 'burrow-dev-tls-')), 2);
});

const contextFor = (servername: string): Promise<SecureContext | undefined> =>
  new Promise((resolve, reject) => certificate.SNICallback(servername, (error, context) => (error ? reject(error) : resolve(context))));

describe('certificates minted per name', () => {
  it('are served again while in use, and the one least recently used is dropped first', async () => {
    const app = await contextFor('app.localhost');
    expect(app).toBeDefined();
    await contextFor('one.localhost');
    expect(await contextFor('app.localhost')).toBe(app);
    await contextFor('two.localhost');
    expect(await contextFor('app.localhost')).toBe(app);
    const one = await contextFor('one.localhost');
    await contextFor('three.localhost');
    await contextFor('app.localhost');
    expect(await contextFor('one.localhost')).not.toBe(one);
  });

  it('are not minted for names outside the domain or over more than one label', async () => {
    expect(await contextFor('example.com')).toBeUndefined();
    expect(await contextFor('a.b.localhost')).toBeUndefined();
  });
});
