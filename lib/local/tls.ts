/**
 * The service's TLS material: a local CA and a server certificate for the loopback names,
 * made on first start and kept in `<dataDir>/tls/`. Node's crypto makes the RSA keys; X.509
 * encoding and signing use node-forge, because Node has no certificate-issuing API.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import forge from 'node-forge';
import { atomicWriteFileSync } from './atomic-file.js';

export interface TlsMaterial {
  caCertPath: string;
  /** The CA's key: the IoT endpoint signs device certificates with it. */
  caKeyPath: string;
  caCert: string;
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

const DAY = 86_400_000;
const LOOPBACK_DNS = ['localhost'];
const LOOPBACK_IPS = ['127.0.0.1', '::1'];

function rsaKeyPair(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicPem: publicKey, privatePem: privateKey };
}

function serial(): string {
  // Positive 16-byte serial: clear the top bit so DER does not read it as negative.
  const b = randomBytes(16);
  b[0] = (b[0] as number) & 0x7f;
  return b.toString('hex');
}

function makeCa(now: number): { certPem: string; keyPem: string } {
  const kp = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(kp.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now - DAY);
  cert.validity.notAfter = new Date(now + 3650 * DAY);
  const subject = [
    { name: 'commonName', value: `kvs-webrtc local CA ${randomBytes(4).toString('hex')}` },
    { name: 'organizationName', value: 'kvs-webrtc local' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const key = forge.pki.privateKeyFromPem(kp.privatePem);
  cert.sign(key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: kp.privatePem };
}

function makeServerCert(caCertPem: string, caKeyPem: string, now: number) {
  const ca = forge.pki.certificateFromPem(caCertPem);
  const kp = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(kp.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now - DAY);
  // Short enough for strict clients (825 days), renewed automatically on start when near expiry.
  cert.validity.notAfter = new Date(now + 800 * DAY);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...LOOPBACK_DNS.map((value) => ({ type: 2, value })),
        ...LOOPBACK_IPS.map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(caKeyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: kp.privatePem };
}

/** A device (client) certificate for an IoT thing, signed by the given CA. */
export function makeDeviceCert(
  caCertPem: string,
  caKeyPem: string,
  commonName: string,
  now = Date.now(),
): { certPem: string; keyPem: string } {
  const ca = forge.pki.certificateFromPem(caCertPem);
  const kp = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(kp.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now - DAY);
  cert.validity.notAfter = new Date(now + 3650 * DAY);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(caKeyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: kp.privatePem };
}

function stillValid(certPem: string, now: number): boolean {
  try {
    const c = new X509Certificate(certPem);
    return Date.parse(c.validTo) - now > 30 * DAY && Date.parse(c.validFrom) <= now;
  } catch {
    return false;
  }
}

/** Loads the CA and server certificate from `<dataDir>/tls`, making whichever is missing. */
export function ensureTlsMaterial(dataDir: string, now = Date.now()): TlsMaterial {
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caCertPath = join(dir, 'ca.pem');
  const caKeyPath = join(dir, 'ca-key.pem');
  const certPath = join(dir, 'server.pem');
  const keyPath = join(dir, 'server-key.pem');

  let newCa = false;
  if (
    !existsSync(caCertPath) ||
    !existsSync(caKeyPath) ||
    !stillValid(readFileSync(caCertPath, 'utf8'), now)
  ) {
    const ca = makeCa(now);
    // Key first: a crash between the two writes leaves a key without a cert, which is remade.
    atomicWriteFileSync(caKeyPath, ca.keyPem);
    atomicWriteFileSync(caCertPath, ca.certPem, 0o644);
    newCa = true;
  }
  const caCert = readFileSync(caCertPath, 'utf8');
  if (
    newCa ||
    !existsSync(certPath) ||
    !existsSync(keyPath) ||
    !stillValid(readFileSync(certPath, 'utf8'), now) ||
    !issuedBy(readFileSync(certPath, 'utf8'), caCert)
  ) {
    const srv = makeServerCert(caCert, readFileSync(caKeyPath, 'utf8'), now);
    atomicWriteFileSync(keyPath, srv.keyPem);
    atomicWriteFileSync(certPath, srv.certPem, 0o644);
  }
  return {
    caCertPath,
    caKeyPath,
    caCert,
    certPath,
    keyPath,
    cert: readFileSync(certPath, 'utf8'),
    key: readFileSync(keyPath, 'utf8'),
  };
}

function issuedBy(certPem: string, caPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkIssued(new X509Certificate(caPem));
  } catch {
    return false;
  }
}
