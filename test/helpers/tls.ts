// Throw-away certificate authorities for the TLS tests, made with the openssl command line in a directory the test
// owns: a CA certificate, and server certificates it signs for the names a test chooses.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

function openssl(args: readonly string[]): void {
  const run = spawnSync('openssl', args, { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${run.stderr}`);
}

export interface IssuedCert {
  /** PEM certificate file. */
  readonly cert: string;
  /** PEM private key file (unencrypted, mode 600). */
  readonly key: string;
}

export interface TestCa {
  /** The CA's PEM certificate: the one thing a client trusts. */
  readonly cert: string;
  /** A server certificate signed by this CA, valid for the subject alternative names given (`IP:…`, `DNS:…`). */
  issue(name: string, altNames: readonly string[]): IssuedCert;
}

/** A new CA (P-256, valid one day) in `dir`, which is created. */
export function makeCa(dir: string, commonName = 'PicoPay test CA'): TestCa {
  mkdirSync(dir, { recursive: true });
  const caCert = path.join(dir, 'ca.pem');
  const caKey = path.join(dir, 'ca.key');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl([
    'req', '-x509', ...ec, '-keyout', caKey, '-out', caCert, '-days', '1', '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]); // prettier-ignore
  let serial = 0;
  return {
    cert: caCert,
    issue(name, altNames) {
      const key = path.join(dir, `${name}.key`);
      const csr = path.join(dir, `${name}.csr`);
      const cert = path.join(dir, `${name}.pem`);
      const extensions = path.join(dir, `${name}.ext`);
      writeFileSync(
        extensions,
        [
          `subjectAltName=${altNames.join(',')}`,
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature,keyEncipherment',
          'extendedKeyUsage=serverAuth',
          '',
        ].join('\n'),
      );
      openssl(['req', '-new', ...ec, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
      openssl([
        'x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-set_serial', String(++serial + 1000),
        '-days', '1', '-out', cert, '-extfile', extensions,
      ]); // prettier-ignore
      return { cert, key };
    },
  };
}
