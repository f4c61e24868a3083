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
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, id_ce_nameConstraints, NameConstraints } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import type { PemPair } from './tunnel-server.js';

export interface DevCertificate extends PemPair {
  /** The certificate for the default names, with the authority's after it. */
  cert: string;
  key: string;
  /** Where the authority's certificate is, for clients to trust: a path of this server's own. */
  certPath: string;
  /** Removes the authority's certificate (the server stopped: nobody holds its key any more). */
  discard(): void;
  /** Serves a certificate naming the host a client asked for, when it is a tunnel's. */
  SNICallback(servername: string, callback: (error: Error | null, context?: SecureContext) => void): void;
}

/** Names minted per SNI kept at once: a client sending made-up names cannot make the server keep more. */
const mintedKept = 256;

/** One DNS label, as tunnel names are. */
const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

type KeyPair = webcrypto.CryptoKeyPair;

/** The authority and what it signs with. */
interface Authority {
  certificate: x509.X509Certificate;
  keys: KeyPair;
}

/** From an hour ago (a client whose clock is a little behind), for a year. */
function validity(): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Date.now() - 3600_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + 365 * 24 * 3600_000) };
}

/** Random and positive, as RFC 5280 section 4.1.2.2 asks (the leading 01). */
const serialNumber = (): string => `01${randomBytes(15).toString('hex')}`;

const newKeys = (): Promise<KeyPair> => webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);

const pemOf = (key: webcrypto.CryptoKey): string => KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;

/**
 * Its name constraints confine what it can vouch for to the tunnel domain,
 * localhost and loopback addresses, so a client that trusts it trusts
 * nothing else, should its key ever leak from the process. Key identifiers
 * on it and on what it signs, which strict verifiers ask for (OpenSSL's
 * X509_STRICT, Python 3.13's default).
 */
async function newAuthority(domain: string): Promise<Authority> {
  const keys = await newKeys();
  // A DNS subtree holds the name and every name under it (RFC 5280 section 4.2.1.10).
  const dnsNames = [...new Set([domain, 'localhost'])].map((dNSName) => ({ dNSName }));
  const permitted = [...dnsNames, { iPAddress: '127.0.0.1/32' }, { iPAddress: '::1/128' }];
  const constraints = new NameConstraints({
    permittedSubtrees: new GeneralSubtrees(permitted.map((name) => new GeneralSubtree({ base: new GeneralName(name) }))),
  });
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: [{ CN: [`burrow dev authority (${domain})`] }],
      ...validity(),
      signingAlgorithm: algorithm,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(constraints)),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certificate, keys };
}

/** The authority's certificate and key (PEM), for tests that sign with it. */
export async function makeDevAuthority(domain: string): Promise<{ cert: string; key: string }> {
  const { certificate, keys } = await newAuthority(domain);
  return { cert: certificate.toString('pem'), key: pemOf(keys.privateKey) };
}

/** A server certificate for `names` (DNS names and IP addresses), the authority's after it. */
async function signServer(authority: Authority, leafKeys: KeyPair, commonName: string, names: x509.JsonGeneralNames): Promise<string> {
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: [{ CN: [commonName] }],
      issuer: authority.certificate.subject,
      ...validity(),
      signingAlgorithm: algorithm,
      publicKey: leafKeys.publicKey,
      signingKey: authority.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names),
        await x509.AuthorityKeyIdentifierExtension.create(authority.keys.publicKey, false, webcrypto),
        await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return `${certificate.toString('pem')}\n${authority.certificate.toString('pem')}\n`;
}

/**
 * A new authority and its certificates. Its certificate goes in a directory
 * of its own: at one path for every server of the domain, a second
 * `--dev-tls` edge replaced the first one's, and the first one's clients
 * then refused it (browser audit).
 */
export async function makeDevCertificate(domain: string, givenDirectory?: string, kept = mintedKept): Promise<DevCertificate> {
  const authority = await newAuthority(domain);
  // One key for every certificate the authority signs: minting a name costs a signature, not a key pair.
  const leafKeys = await newKeys();
  const leafKey = pemOf(leafKeys.privateKey);
  const cert = await signServer(authority, leafKeys, `burrow dev (${domain})`, [
    { type: 'dns', value: 'localhost' },
    { type: 'dns', value: domain },
    { type: 'dns', value: `*.${domain}` },
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '::1' },
  ]);

  const minted = new Map<string, Promise<SecureContext>>();
  const contextFor = (name: string): Promise<SecureContext> => {
    let context = minted.get(name);
    // Least recently used goes first: names cycled by one client do not push out a tunnel in use.
    if (context !== undefined) {
      minted.delete(name);
      minted.set(name, context);
    } else {
      context = signServer(authority, leafKeys, name, [{ type: 'dns', value: name }]).then((chain) => createSecureContext({ cert: chain, key: leafKey }));
      // A failed mint is not kept: the next handshake tries again.
      context.catch(() => minted.delete(name));
      minted.set(name, context);
      if (minted.size > kept) minted.delete(minted.keys().next().value!);
    }
    return context;
  };

  const directory = givenDirectory ?? mkdtempSync(join(tmpdir(), 'burrow-dev-tls-'));
  mkdirSync(directory, { recursive: true });
  const certPath = join(directory, `${domain}-ca.pem`);
  writeFileSync(certPath, authority.certificate.toString('pem'));
  return {
    cert,
    key: leafKey,
    certPath,
    discard: () => rmSync(givenDirectory === undefined ? directory : certPath, { recursive: true, force: true }),
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
