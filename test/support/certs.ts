import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files made for one test run: a CA, a server and a client signed by it, and a stranger CA. */
export interface TestCertificates {
  /** The CA that signed the server and client certificates. */
  readonly ca: Buffer;
  /** Server certificate for 127.0.0.1 and localhost (subjectAltName), and its key. */
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
  /** Deletes the temporary directory. */
  remove(): void;
}

/**
 * Makes fresh certificates with the `openssl` command (EC P-256 keys, valid one day) in a
 * temporary directory. Throws a clear error when `openssl` is not installed.
 */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-pool-certs-'));
  /** Runs `openssl` with `command` split on spaces, then `last` as one argument if given. */
  const openssl = (command: string, last?: string) => {
    const args = [...command.split(' '), ...(last === undefined ? [] : [last])];
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 10_000 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(
          'the openssl command is missing: the TLS tests need it (apt-get install openssl)',
          { cause: error },
        );
      }
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`openssl ${args[0]} failed: ${stderr || String(error)}`, { cause: error });
    }
  };
  const key = (name: string) =>
    openssl(`genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ${name}.key`);
  const selfSignedCa = (name: string, cn: string) => {
    key(name);
    openssl(
      `req -x509 -new -key ${name}.key -out ${name}.crt -days 1` +
        ' -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign' +
        ' -subj',
      `/CN=${cn}`,
    );
  };
  const signed = (name: string, cn: string, extensions: string) => {
    key(name);
    openssl(`req -new -key ${name}.key -out ${name}.csr -subj`, `/CN=${cn}`);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(
      `x509 -req -in ${name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out ${name}.crt` +
        ` -days 1 -sha256 -extfile ${name}.ext`,
    );
  };

  try {
    selfSignedCa('ca', 'nestjs-grpc-pool test CA');
    selfSignedCa('other-ca', 'nestjs-grpc-pool stranger CA');
    signed(
      'server',
      'localhost',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
    );
    signed('client', 'pool-client', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
    const read = (file: string) => readFileSync(join(dir, file));
    const files = {
      ca: read('ca.crt'),
      serverCert: read('server.crt'),
      serverKey: read('server.key'),
      clientCert: read('client.crt'),
      clientKey: read('client.key'),
      otherCa: read('other-ca.crt'),
    };
    return {
      ...files,
      secretFragments: [
        ...new Set(
          Object.values(files).flatMap((pem) =>
            pem
              .toString()
              .split('\n')
              .filter((line) => line.length >= 24 && !line.startsWith('-----'))
              .map((line) => line.slice(0, 24)),
          ),
        ),
      ],
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
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
