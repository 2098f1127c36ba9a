import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { OtaAnnouncement, canonicalJson, type OtaManifest } from '@shelfsight/protocol';

export interface ReleaseOptions {
  /** Folder with the files to ship (a model folder, or one holding gallery.json). */
  dir: string;
  kind: OtaManifest['kind'];
  name: string;
  version: string;
  /** Ed25519 private key, PEM (PKCS#8). Keep it off the cloud. */
  privateKeyPem: string;
  /** Base of the download URLs the devices will use, e.g. https://cloud.example.com */
  baseUrl: string;
  /** Files to include; default: every regular file in `dir` (model) or just gallery.json (gallery). */
  files?: string[];
}

/** A new release key pair: the private half signs releases, the public half goes into agent configs. */
export const generateReleaseKey = (): { privateKeyPem: string; publicKeyBase64: string } => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyBase64: raw.toString('base64'),
  };
};

/**
 * Builds and signs an announcement for the files in `dir`. Each file is addressed by content
 * hash, so what the device downloads is exactly what was signed.
 */
export const buildRelease = async (
  opts: ReleaseOptions,
): Promise<{ announcement: OtaAnnouncement; files: { path: string; body: Buffer; sha256: string }[] }> => {
  const names =
    opts.files ??
    (opts.kind === 'gallery' ? ['gallery.json'] : (await readdir(opts.dir)).filter((n) => !n.startsWith('.')));
  const files = await Promise.all(
    names.sort().map(async (name) => {
      const body = await readFile(path.join(opts.dir, name));
      return { path: name, body, sha256: createHash('sha256').update(body).digest('hex') };
    }),
  );
  const base = opts.baseUrl.replace(/\/$/, '');
  const manifest: OtaManifest = {
    kind: opts.kind,
    name: opts.name,
    version: opts.version,
    files: files.map((f) => ({
      path: f.path,
      url: `${base}/ota/files/${f.sha256}`,
      sha256: f.sha256,
      size: f.body.length,
    })),
    issuedAt: new Date().toISOString(),
  };
  const key: KeyObject = createPrivateKey(opts.privateKeyPem);
  const signature = sign(null, Buffer.from(canonicalJson(manifest)), key).toString('base64');
  return { announcement: OtaAnnouncement.parse({ manifest, signature }), files };
};
