// `burrow server --dev-tls`: a certificate authority for local use, made at
// start, and certificates it signs: one for localhost, the tunnel domain,
// *.DOMAIN and loopback addresses, and one per tunnel name a client asks
// for by SNI. Clients refuse a wildcard over one label (*.localhost), so
// with the default domain only a certificate naming NAME.localhost itself
// verifies. Agents and clients trust the authority with --ca / --cacert PATH
// (the path is printed); its key never leaves the process, so that trusting
// it trusts nothing once the server has stopped.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import selfsigned from 'selfsigned';
import type { PemPair } from './tunnel-server.js';

export interface DevCertificate extends PemPair {
  /** The certificate for the default names, with the authority's after it. */
  cert: string;
  key: string;
  /** Where the authority's certificate is, for clients to trust. */
  certPath: string;
  /** Serves a certificate naming the host a client asked for, when it is a tunnel's. */
  SNICallback(servername: string, callback: (error: Error | null, context?: SecureContext) => void): void;
}

/** Names minted per SNI kept at once: a client sending made-up names cannot make the server keep more. */
const mintedKept = 256;

/** One DNS label, as tunnel names are. */
const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const signing = { keyType: 'ec', algorithm: 'sha256' } as const;

export async function makeDevCertificate(domain: string, directory = join(tmpdir(), 'burrow-dev-tls'), kept = mintedKept): Promise<DevCertificate> {
  const authority = await selfsigned.generate([{ name: 'commonName', value: `burrow dev authority (${domain})` }], {
    ...signing,
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const ca = { cert: authority.cert, key: authority.private };
  // One key for every certificate the authority signs: minting a name costs a signature, not a key pair.
  const leafKey = await selfsigned.generate([{ name: 'commonName', value: 'key' }], signing);
  const keyPair = { privateKey: leafKey.private, publicKey: leafKey.public };
  const sign = async (commonName: string, altNames: { type: 2 | 7; value?: string; ip?: string }[]): Promise<string> => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: commonName }], {
      ...signing,
      keyPair,
      ca,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames },
      ],
    });
    return `${pems.cert.trimEnd()}\n${authority.cert.trimEnd()}\n`;
  };
  const cert = await sign(`burrow dev (${domain})`, [
    { type: 2, value: 'localhost' },
    { type: 2, value: domain },
    { type: 2, value: `*.${domain}` },
    { type: 7, ip: '127.0.0.1' },
    { type: 7, ip: '::1' },
  ]);

  const minted = new Map<string, Promise<SecureContext>>();
  const contextFor = (name: string): Promise<SecureContext> => {
    let context = minted.get(name);
    // Least recently used goes first: names cycled by one client do not push out a tunnel in use.
    if (context !== undefined) {
      minted.delete(name);
      minted.set(name, context);
    } else {
      context = sign(name, [{ type: 2, value: name }]).then((chain) => createSecureContext({ cert: chain, key: leafKey.private }));
      // A failed mint is not kept: the next handshake tries again.
      context.catch(() => minted.delete(name));
      minted.set(name, context);
      if (minted.size > kept) minted.delete(minted.keys().next().value!);
    }
    return context;
  };

  mkdirSync(directory, { recursive: true });
  const certPath = join(directory, `${domain}-ca.pem`);
  writeFileSync(certPath, authority.cert);
  return {
    cert,
    key: leafKey.private,
    certPath,
    SNICallback(servername, callback) {
      const name = servername.toLowerCase();
      const label = name.endsWith(`.${domain}`) ? name.slice(0, -domain.length - 1) : undefined;
      // Anything else gets the certificate for the default names, as without SNI.
      if (label === undefined || !dnsLabel.test(label)) {
        callback(null);
        return;
      }
      contextFor(name).then(
        (context) => callback(null, context),
        (error: Error) => callback(error),
      );
    },
  };
}
