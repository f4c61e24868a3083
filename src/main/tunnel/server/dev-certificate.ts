// `burrow server --dev-tls`: a self-signed certificate for local use, valid
// for localhost, the tunnel domain and loopback addresses. Agents trust it
// with --ca PATH (the path is printed).
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import type { PemPair } from './tunnel-server.js';

export interface DevCertificate extends PemPair {
  cert: string;
  key: string;
  certPath: string;
}

export async function makeDevCertificate(domain: string, directory = join(tmpdir(), 'burrow-dev-tls')): Promise<DevCertificate> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: `burrow dev (${domain})` }], {
    keyType: 'ec',
    extensions: [
      { name: 'basicConstraints', cA: false },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 2, value: domain },
          { type: 2, value: `*.${domain}` },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  mkdirSync(directory, { recursive: true });
  const certPath = join(directory, `${domain}-cert.pem`);
  writeFileSync(certPath, pems.cert);
  // The key stays in memory: only the certificate needs sharing.
  return { cert: pems.cert, key: pems.private, certPath };
}
