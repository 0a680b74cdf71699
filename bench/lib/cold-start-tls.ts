import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A server certificate for one host name, and how Chromium is told to trust it. */
export interface TestCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  /** Base64 SHA-256 of the certificate's SubjectPublicKeyInfo, for --ignore-certificate-errors-spki-list. */
  readonly spki: string;
}

/**
 * Makes a self-signed certificate for `host` with openssl. Chromium trusts its key through
 * `--ignore-certificate-errors-spki-list` (honoured only with a user data dir), which, unlike a
 * page that ignores certificate errors, lets the page register a service worker.
 */
export function makeCertificate(dir: string, host: string): TestCertificate {
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${host}`,
    '-addext', `subjectAltName=DNS:${host}`,
    '-keyout', keyPath, '-out', certPath,
  ], { stdio: 'ignore' });
  const der = new X509Certificate(readFileSync(certPath)).publicKey.export({ type: 'spki', format: 'der' });
  return { certPath, keyPath, spki: createHash('sha256').update(der).digest('base64') };
}
