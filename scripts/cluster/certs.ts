// The cluster's certificates, made with openssl: one CA; the frontend's server certificate; the internode certificate
// (history, matching and worker present it to each other, and the system worker to the frontend); and one client
// certificate per client of the frontend. Made once and kept; a missing or soon-expiring one is made again.
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './processes';
import { FRONTEND_SERVER_NAME, INTERNODE_SERVER_NAME } from './settings';

export const CA_VALIDITY_DAYS = 3_650;
export const LEAF_VALIDITY_DAYS = 90;
/** `up` makes a certificate again when it expires within this many days (rotation, see docs/operations.md). */
export const RENEW_BEFORE_DAYS = 14;
const OPENSSL_TIMEOUT_MS = 30_000;
const DAY_MS = 86_400_000;

/** The clients of the frontend, each with its own certificate (the CN names it in the frontend's view). */
export const CLIENT_CERTIFICATES = ['injector-worker', 'injector-gateway', 'temporal-cli', 'temporal-ui'] as const;
export type ClientName = (typeof CLIENT_CERTIFICATES)[number];

export interface CertificatePair {
  cert: string;
  key: string;
}

export interface ClusterCertificates {
  ca: string;
  frontend: CertificatePair;
  internode: CertificatePair;
  clients: Record<ClientName, CertificatePair>;
}

export function certificatePaths(certsDir: string): ClusterCertificates {
  const pair = (name: string) => ({ cert: path.join(certsDir, `${name}.pem`), key: path.join(certsDir, `${name}.key`) });
  return {
    ca: path.join(certsDir, 'ca.pem'),
    frontend: pair('frontend'),
    internode: pair('internode'),
    clients: Object.fromEntries(CLIENT_CERTIFICATES.map((name) => [name, pair(name)])) as Record<ClientName, CertificatePair>,
  };
}

function stillValid(certFile: string): boolean {
  if (!existsSync(certFile)) return false;
  const cert = new X509Certificate(readFileSync(certFile));
  return new Date(cert.validTo).getTime() - Date.now() > RENEW_BEFORE_DAYS * DAY_MS;
}

const openssl = (args: string[]) => run('openssl', args, { timeoutMs: OPENSSL_TIMEOUT_MS });

async function newKey(keyFile: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', keyFile]);
  chmodSync(keyFile, 0o600);
}

/** A leaf certificate signed by the CA: names become subjectAltNames, usage picks the extended key usages. */
async function issue(certsDir: string, ca: { cert: string; key: string }, name: string, pair: CertificatePair, options: { dnsNames: string[]; ipAddresses: string[]; usage: string }): Promise<void> {
  await newKey(pair.key);
  const csr = path.join(certsDir, `${name}.csr`);
  const extensions = path.join(certsDir, `${name}.ext`);
  const altNames = [...options.dnsNames.map((n) => `DNS:${n}`), ...options.ipAddresses.map((ip) => `IP:${ip}`)];
  writeFileSync(
    extensions,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${options.usage}`,
      ...(altNames.length > 0 ? [`subjectAltName=${altNames.join(',')}`] : []),
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      '',
    ].join('\n'),
  );
  await openssl(['req', '-new', '-key', pair.key, '-subj', `/O=OpenClaw cluster/CN=${name}`, '-out', csr]);
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', String(LEAF_VALIDITY_DAYS), '-sha256', '-extfile', extensions, '-out', pair.cert]);
  rmSync(csr, { force: true });
  rmSync(extensions, { force: true });
}

/** Makes whatever is missing or about to expire; returns the names of the certificates it made. */
export async function ensureCertificates(certsDir: string): Promise<string[]> {
  mkdirSync(certsDir, { recursive: true, mode: 0o700 });
  const paths = certificatePaths(certsDir);
  const ca = { cert: paths.ca, key: path.join(certsDir, 'ca.key') };
  const made: string[] = [];
  if (!stillValid(ca.cert) || !existsSync(ca.key)) {
    await newKey(ca.key);
    await openssl([
      'req', '-x509', '-new', '-key', ca.key, '-sha256', '-days', String(CA_VALIDITY_DAYS), '-subj', '/O=OpenClaw cluster/CN=OpenClaw cluster CA',
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', ca.cert,
    ]);
    // A new CA invalidates every certificate it did not sign.
    for (const pair of [paths.frontend, paths.internode, ...Object.values(paths.clients)]) rmSync(pair.cert, { force: true });
    made.push('ca');
  }
  const leaves: Array<[string, CertificatePair, { dnsNames: string[]; ipAddresses: string[]; usage: string }]> = [
    ['frontend', paths.frontend, { dnsNames: [FRONTEND_SERVER_NAME, 'localhost'], ipAddresses: ['127.0.0.1'], usage: 'serverAuth' }],
    ['internode', paths.internode, { dnsNames: [INTERNODE_SERVER_NAME], ipAddresses: ['127.0.0.1'], usage: 'serverAuth,clientAuth' }],
    ...CLIENT_CERTIFICATES.map((name): [string, CertificatePair, { dnsNames: string[]; ipAddresses: string[]; usage: string }] => [name, paths.clients[name], { dnsNames: [], ipAddresses: [], usage: 'clientAuth' }]),
  ];
  for (const [name, pair, options] of leaves) {
    if (stillValid(pair.cert) && existsSync(pair.key)) continue;
    await issue(certsDir, ca, name, pair, options);
    made.push(name);
  }
  return made;
}
