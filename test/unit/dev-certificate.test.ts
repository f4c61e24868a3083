// --dev-tls mints a certificate per name a client asks for by SNI and keeps
// a bounded number: the one least recently used goes first, so that a client
// cycling through made-up names does not push out a tunnel in use (a review
// found the oldest minted went first, however often it was served).
import type { AddressInfo } from 'node:net';
import { connect, createServer, type SecureContext } from 'node:tls';
import * as x509 from '@peculiar/x509';
import selfsigned from 'selfsigned';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeDevAuthority, makeDevCertificate, type DevCertificate } from '../../src/main/tunnel/server/dev-certificate.js';
import { scratchDirectory } from '../helpers/scratch.js';

let certificate: DevCertificate;

beforeAll(async () => {
  certificate = await makeDevCertificate('localhost', scratchDirectory('burrow-dev-tls-'), 2);
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

// The authority's name constraints (RFC 5280 section 4.2.1.10): whoever trusts
// it trusts it for the tunnel domain, localhost and loopback, nothing else.
describe('the authority', () => {
  const verdictFor = async (domain: string, altNames: { type: 2 | 7; value?: string; ip?: string }[], servername: string): Promise<string> => {
    const authority = await makeDevAuthority(domain);
    const leaf = await selfsigned.generate([{ name: 'commonName', value: 'leaf' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      ca: authority,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames },
      ],
    });
    const server = createServer({ cert: `${leaf.cert.trimEnd()}\n${authority.cert}`, key: leaf.private }, (socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      return await new Promise<string>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port, servername, ca: authority.cert }, () => {
          resolve('trusted');
          socket.destroy();
        });
        socket.on('error', (error) => resolve(error.message));
      });
    } finally {
      server.close();
    }
  };

  it('vouches for names in the tunnel domain, localhost and loopback', async () => {
    expect(await verdictFor('tunnel.test', [{ type: 2, value: 'app.tunnel.test' }], 'app.tunnel.test')).toBe('trusted');
    expect(await verdictFor('tunnel.test', [{ type: 2, value: 'localhost' }], 'localhost')).toBe('trusted');
    expect(await verdictFor('tunnel.test', [{ type: 2, value: 'a.tunnel.test' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }], 'a.tunnel.test')).toBe('trusted');
  });

  it('vouches for nothing else, should its key leak', async () => {
    expect(await verdictFor('tunnel.test', [{ type: 2, value: 'bank.example' }], 'bank.example')).toBe('permitted subtree violation');
    expect(await verdictFor('tunnel.test', [{ type: 2, value: 'tunnel.test.example' }], 'tunnel.test.example')).toBe('permitted subtree violation');
    expect(await verdictFor('tunnel.test', [{ type: 2, value: 'a.tunnel.test' }, { type: 7, ip: '10.0.0.1' }], 'a.tunnel.test')).toBe('permitted subtree violation');
  });
});

describe('the certificates', () => {
  // OpenSSL's X509_STRICT (Python 3.13's default) refuses a chain without them.
  it('carry key identifiers: the authority its own, what it signs the authority\'s', async () => {
    const [leaf, authority] = certificate.cert.split(/(?<=-----END CERTIFICATE-----)\s*/).filter(Boolean).map((pem) => new x509.X509Certificate(pem));
    const authorityKey = authority!.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    expect(authorityKey).toMatch(/^[0-9a-f]{40}$/);
    expect(leaf!.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(authorityKey);
    expect(leaf!.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
    expect(authority!.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: true, critical: true });
  });
});
