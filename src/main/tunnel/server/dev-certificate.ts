// `burrow server --dev-tls`: a certificate authority for local use, made at
// start, and certificates it signs: one for localhost, the tunnel domain,
// *.DOMAIN and loopback addresses, and one per tunnel name a client asks
// for by SNI. Clients refuse a wildcard over one label (*.localhost), so
// with the default domain only a certificate naming NAME.localhost itself
// verifies. Agents and clients trust the authority with --ca / --cacert PATH
// (the path is printed); its key never leaves the process, so that trusting
// it trusts nothing once the server has stopped, and its name constraints
// keep it to the domain, localhost and loopback meanwhile.
import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, id_ce_nameConstraints, NameConstraints } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
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

/**
 * The authority's certificate and key (PEM). Its name constraints confine what it can vouch
 * for to the tunnel domain, localhost and loopback addresses, so a client that trusts it
 * trusts nothing else, should its key ever leak from the process.
 */
export async function makeDevAuthority(domain: string): Promise<{ cert: string; key: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  // A DNS subtree holds the name and every name under it (RFC 5280 section 4.2.1.10).
  const dnsNames = [...new Set([domain, 'localhost'])].map((dNSName) => ({ dNSName }));
  const permitted = [...dnsNames, { iPAddress: '127.0.0.1/32' }, { iPAddress: '::1/128' }];
  const constraints = new NameConstraints({
    permittedSubtrees: new GeneralSubtrees(permitted.map((name) => new GeneralSubtree({ base: new GeneralName(name) }))),
  });
  const notBefore = new Date();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      // A leading 01 keeps the serial positive, as RFC 5280 section 4.1.2.2 asks.
      serialNumber: `01${randomBytes(15).toString('hex')}`,
      name: [{ CN: [`burrow dev authority (${domain})`] }],
      notBefore,
      notAfter: new Date(notBefore.getTime() + 365 * 24 * 3600_000),
      signingAlgorithm: algorithm,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(constraints)),
      ],
    },
    webcrypto,
  );
  const key = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string;
  return { cert: certificate.toString('pem'), key };
}

export async function makeDevCertificate(domain: string, directory = join(tmpdir(), 'burrow-dev-tls'), kept = mintedKept): Promise<DevCertificate> {
  const ca = await makeDevAuthority(domain);
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
    return `${pems.cert.trimEnd()}\n${ca.cert.trimEnd()}\n`;
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
  writeFileSync(certPath, ca.cert);
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
