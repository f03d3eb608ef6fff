/**
 * The proxy's certificate authority: created fresh for each emulator run (never written to the repository, never
 * reused), it signs one certificate per Twilio host the proxy terminates TLS for. ECDSA P-256 keys from Node's
 * WebCrypto (a few milliseconds, off the event loop), X.509 certificates from @peculiar/x509.
 */
import { randomBytes, webcrypto } from 'node:crypto';
// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { DAY_MS } from '../core/clock';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const subtle = webcrypto.subtle as unknown as SubtleCrypto;
const crypto = webcrypto as unknown as Crypto;

/** Positive (high bit clear), 16 random bytes, hex. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

export class ProxyCertificateAuthority {
  private readonly leaves = new Map<string, Promise<{ cert: string; key: string }>>();

  private constructor(
    /** The CA certificate clients must trust (NODE_EXTRA_CA_CERTS, or `ca` of an https agent). */
    readonly certPem: string,
    private readonly cert: x509.X509Certificate,
    private readonly keys: CryptoKeyPair,
    private readonly leafKeys: CryptoKeyPair,
    private readonly leafKeyPem: string,
  ) {}

  static async create(): Promise<ProxyCertificateAuthority> {
    const [keys, leafKeys] = await Promise.all([keyPair(), keyPair()]);
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: serialNumber(),
        name: `CN=Flex Sync Functions emulator CA ${serialNumber().slice(0, 8)}, O=Local Twilio emulator (this run only)`,
        notBefore: new Date(Date.now() - DAY_MS),
        notAfter: new Date(Date.now() + 30 * DAY_MS),
        signingAlgorithm: ALGORITHM,
        keys,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        ],
      },
      crypto,
    );
    return new ProxyCertificateAuthority(
      cert.toString('pem'),
      cert,
      keys,
      leafKeys,
      await privateKeyPem(leafKeys.privateKey),
    );
  }

  /** The certificate and key for one host (e.g. serverless.twilio.com), signed by this CA; made once per host. */
  certificateFor(host: string): Promise<{ cert: string; key: string }> {
    let leaf = this.leaves.get(host);
    if (!leaf) {
      leaf = this.sign(host);
      this.leaves.set(host, leaf);
    }
    return leaf;
  }

  private async sign(host: string): Promise<{ cert: string; key: string }> {
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serialNumber(),
        subject: `CN=${host}`,
        issuer: this.cert.subject,
        notBefore: new Date(Date.now() - DAY_MS),
        notAfter: new Date(Date.now() + 7 * DAY_MS),
        signingAlgorithm: ALGORITHM,
        publicKey: this.leafKeys.publicKey,
        signingKey: this.keys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: host }]),
          await x509.AuthorityKeyIdentifierExtension.create(this.keys.publicKey, false, crypto),
        ],
      },
      crypto,
    );
    return { cert: cert.toString('pem'), key: this.leafKeyPem };
  }
}
