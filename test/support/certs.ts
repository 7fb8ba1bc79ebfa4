import 'reflect-metadata'; // @peculiar/x509's DI container (tsyringe) needs it loaded first
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

// @peculiar/x509 signs with WebCrypto; Node's is the one it should use.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** PEM certificates and keys made for one test run: a CA, a server and a client signed by it, and a stranger CA. */
export interface TestCertificates {
  /** The CA that signed the server and client certificates. */
  readonly ca: Buffer;
  /** Server certificate for 127.0.0.1, localhost and spread.test (subjectAltName), and its key. */
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  /** Client certificate for mTLS (extendedKeyUsage clientAuth), and its key. */
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  /** A CA that signed nothing here: trusting it instead of `ca` must fail. */
  readonly otherCa: Buffer;
  /**
   * Pieces of every key and certificate (24 base64 characters from each body line) that
   * must never show up in a status, a log line or an error message.
   */
  readonly secretFragments: readonly string[];
}

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A fresh EC P-256 key pair, extractable so that its private key can be written as PEM. */
const keyPair = () =>
  webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;

/** The private key of `keys` as a PKCS#8 PEM, which grpc-js (OpenSSL) reads. */
async function privateKeyPem(keys: CryptoKeyPair): Promise<Buffer> {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return Buffer.from(x509.PemConverter.encode(der, 'PRIVATE KEY'));
}

/** A self-signed CA certificate named `cn`. */
async function certificateAuthority(
  cn: string,
): Promise<{ keys: CryptoKeyPair; cert: x509.X509Certificate }> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${cn}`,
    keys,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + DAY_MS),
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { keys, cert };
}

/** A leaf certificate named `cn`, signed by `ca`, with `extensions`. */
async function leaf(
  ca: { keys: CryptoKeyPair; cert: x509.X509Certificate },
  cn: string,
  extensions: x509.Extension[],
): Promise<{ cert: Buffer; key: Buffer }> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${cn}`,
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    serialNumber: randomBytes(8)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + DAY_MS),
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(false),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
      ...extensions,
    ],
  });
  return { cert: Buffer.from(cert.toString('pem')), key: await privateKeyPem(keys) };
}

/**
 * Makes fresh certificates in memory with `@peculiar/x509` on Node's WebCrypto (EC P-256
 * keys, valid one day either side of now): no `openssl` command, no temporary files.
 */
export async function createTestCertificates(): Promise<TestCertificates> {
  const ca = await certificateAuthority('nestjs-grpc-pool test CA');
  const otherCa = await certificateAuthority('nestjs-grpc-pool stranger CA');
  const server = await leaf(ca, 'localhost', [
    new x509.SubjectAlternativeNameExtension([
      { type: 'ip', value: '127.0.0.1' },
      { type: 'dns', value: 'localhost' },
      // A name for spread tests: its backends sit on 127.0.0.2-4, which the certificate does not name.
      { type: 'dns', value: 'spread.test' },
    ]),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
  ]);
  const client = await leaf(ca, 'pool-client', [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ]);
  const files = {
    ca: Buffer.from(ca.cert.toString('pem')),
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    otherCa: Buffer.from(otherCa.cert.toString('pem')),
  };
  return {
    ...files,
    secretFragments: [
      ...new Set(
        Object.values(files).flatMap((pem) =>
          pem
            .toString()
            .split(/\r?\n/)
            .filter((line) => line.length >= 24 && !line.startsWith('-----'))
            .map((line) => line.slice(0, 24)),
        ),
      ),
    ],
  };
}

/**
 * Where `text` shows key or certificate material: a PEM armour line or a fragment of one of
 * `certs`' files. An empty list means clean.
 */
export function findSecrets(text: string, certs: TestCertificates): string[] {
  const found: string[] = [];
  if (text.includes('-----BEGIN')) found.push('-----BEGIN');
  for (const fragment of certs.secretFragments) {
    if (text.includes(fragment)) found.push(fragment);
  }
  return found;
}
