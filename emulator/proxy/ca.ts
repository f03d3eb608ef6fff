/**
 * The proxy's certificate authority: created fresh for each emulator run (never written to the repository, never
 * reused), it signs one certificate per Twilio host the proxy terminates TLS for. Keys come from Node's crypto, the
 * X.509 certificates from node-forge.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

const DAY_MS = 86_400_000;

function keyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    pem: privateKey,
  };
}

function serialNumber(): string {
  // Positive (high bit clear), 16 random bytes.
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

export class ProxyCertificateAuthority {
  /** The CA certificate clients must trust (NODE_EXTRA_CA_CERTS, or `ca` of an https agent). */
  readonly certPem: string;
  private readonly caKey: forge.pki.rsa.PrivateKey;
  private readonly caCert: forge.pki.Certificate;
  private readonly leafKey = keyPair();
  private readonly leaves = new Map<string, { cert: string; key: string }>();

  constructor() {
    const ca = keyPair();
    const cert = forge.pki.createCertificate();
    cert.publicKey = ca.publicKey;
    cert.serialNumber = serialNumber();
    cert.validity.notBefore = new Date(Date.now() - DAY_MS);
    cert.validity.notAfter = new Date(Date.now() + 30 * DAY_MS);
    const name = [
      { name: 'commonName', value: `Flex Sync Functions emulator CA ${serialNumber().slice(0, 8)}` },
      { name: 'organizationName', value: 'Local Twilio emulator (this run only)' },
    ];
    cert.setSubject(name);
    cert.setIssuer(name);
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true, pathLenConstraint: 0 },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ]);
    cert.sign(ca.privateKey, forge.md.sha256.create());
    this.caKey = ca.privateKey;
    this.caCert = cert;
    this.certPem = forge.pki.certificateToPem(cert);
  }

  /** The certificate and key for one host (e.g. serverless.twilio.com), signed by this CA; cached per host. */
  certificateFor(host: string): { cert: string; key: string } {
    const cached = this.leaves.get(host);
    if (cached) return cached;
    const cert = forge.pki.createCertificate();
    cert.publicKey = this.leafKey.publicKey;
    cert.serialNumber = serialNumber();
    cert.validity.notBefore = new Date(Date.now() - DAY_MS);
    cert.validity.notAfter = new Date(Date.now() + 7 * DAY_MS);
    cert.setSubject([{ name: 'commonName', value: host }]);
    cert.setIssuer(this.caCert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: host }] },
    ]);
    cert.sign(this.caKey, forge.md.sha256.create());
    const leaf = { cert: forge.pki.certificateToPem(cert), key: this.leafKey.pem };
    this.leaves.set(host, leaf);
    return leaf;
  }
}
