#!/usr/bin/env node
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildRelease, generateReleaseKey } from './release.js';

export const RELEASE_USAGE = `usage:
  shelfsight-release keygen --out FILE
      writes a new Ed25519 release key (PEM, mode 0600) and prints the public key for agent
      configs (ota.publicKeys). Keep the private key off the cloud.

  shelfsight-release publish --cloud URL --key FILE (--catalog | --dir DIR --kind model|gallery
                     --name NAME --version VERSION) (--all | --devices ID[,ID…]) [--dry-run]
      signs a release and announces it to devices through the cloud:
      --catalog        ship the cloud's current catalog gallery (GET /api/v1/catalog/gallery)
      --dir DIR        ship the files in DIR (a model folder, or one holding gallery.json)
      --all            every device the cloud has heard from; or --devices a,b,c
      --base-url URL   download base the devices use (default --cloud)
      --dry-run        sign and print the manifest, upload and announce nothing
  The admin token comes from SHELFSIGHT_ADMIN_TOKEN or --admin-token-file FILE.`;

class UsageError extends Error {}

const fail = (msg: string): never => {
  throw new UsageError(msg);
};

const say = (msg: string) => process.stderr.write(`${msg}\n`);

const call = async (url: string, token: string, init: RequestInit = {}): Promise<unknown> => {
  const res = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) },
  }).catch((err: Error) => fail(`${init.method ?? 'GET'} ${url}: ${err.message}`));
  const text = await res.text();
  if (!res.ok) fail(`${init.method ?? 'GET'} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as unknown) : null;
};

export const runReleaseCli = async (argv: string[]): Promise<number> => {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h') {
    console.log(RELEASE_USAGE);
    return cmd ? 0 : 2;
  }
  const { values: a } = parseArgs({
    args: rest,
    options: {
      out: { type: 'string' },
      cloud: { type: 'string' },
      key: { type: 'string' },
      catalog: { type: 'boolean', default: false },
      dir: { type: 'string' },
      kind: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string' },
      all: { type: 'boolean', default: false },
      devices: { type: 'string' },
      'base-url': { type: 'string' },
      'admin-token-file': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (cmd === 'keygen') {
    const out = a.out ?? fail('keygen needs --out FILE');
    const k = generateReleaseKey();
    await writeFile(out, k.privateKeyPem, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) =>
      fail(err.code === 'EEXIST' ? `${out} exists; refusing to overwrite a release key` : err.message),
    );
    await chmod(out, 0o600);
    console.log(JSON.stringify({ privateKeyFile: out, publicKeyBase64: k.publicKeyBase64 }));
    return 0;
  }
  if (cmd !== 'publish') fail(`unknown command "${cmd}"`);
  const cloud = (a.cloud ?? fail('publish needs --cloud URL')).replace(/\/$/, '');
  const keyFile = a.key ?? fail('publish needs --key FILE (the release private key)');
  const token =
    process.env.SHELFSIGHT_ADMIN_TOKEN ??
    (a['admin-token-file']
      ? (await readFile(a['admin-token-file'], 'utf8')).trim()
      : fail('set SHELFSIGHT_ADMIN_TOKEN or --admin-token-file'));
  if (a.catalog === !!a.dir) fail('give exactly one of --catalog or --dir');
  if (a.all === !!a.devices) fail('give exactly one of --all or --devices');
  const privateKeyPem = await readFile(keyFile, 'utf8').catch((err: Error) => fail(`--key ${keyFile}: ${err.message}`));

  let dir = a.dir;
  let kind: 'model' | 'gallery';
  let name: string;
  let version: string;
  let tmp: string | undefined;
  try {
    if (a.catalog) {
      const g = (await call(`${cloud}/api/v1/catalog/gallery`, token)) as { name: string; version: string };
      tmp = await mkdtemp(path.join(tmpdir(), 'shelfsight-release-'));
      await writeFile(path.join(tmp, 'gallery.json'), `${JSON.stringify(g)}\n`);
      dir = tmp;
      kind = 'gallery';
      ({ name, version } = g);
      say(`catalog gallery ${name}@${version}`);
    } else {
      if (a.kind !== 'model' && a.kind !== 'gallery') fail('--kind must be model or gallery');
      kind = a.kind as 'model' | 'gallery';
      name = a.name ?? fail('--dir needs --name');
      version = a.version ?? fail('--dir needs --version');
    }
    const deviceIds = a.all
      ? ((await call(`${cloud}/api/v1/devices`, token)) as { items: { deviceId: string }[] }).items.map(
          (d) => d.deviceId,
        )
      : a
          .devices!.split(',')
          .map((s) => s.trim())
          .filter(Boolean);
    if (!deviceIds.length) fail('no devices to announce to');
    const rel = await buildRelease({
      dir: dir!,
      kind,
      name,
      version,
      privateKeyPem,
      baseUrl: a['base-url'] ?? cloud,
    });
    say(`signed ${kind} ${name}@${version}: ${rel.files.length} file(s), ${deviceIds.length} device(s)`);
    if (a['dry-run']) {
      console.log(JSON.stringify({ dryRun: true, announcement: rel.announcement, deviceIds }));
      return 0;
    }
    for (const [i, f] of rel.files.entries()) {
      await call(`${cloud}/api/v1/ota/artifacts`, token, { method: 'POST', body: new Uint8Array(f.body) });
      say(`uploaded ${i + 1}/${rel.files.length} ${f.path} (${(f.body.length / 1024).toFixed(1)} KiB)`);
    }
    await call(`${cloud}/api/v1/ota/announcements`, token, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deviceIds, announcement: rel.announcement }),
    });
    say(`announced to ${deviceIds.length} device(s); follow progress at ${cloud}/api/v1/ota/states`);
    console.log(JSON.stringify({ kind, name, version, deviceIds, files: rel.announcement.manifest.files }));
    return 0;
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
};

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href)
  runReleaseCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        console.error(`shelfsight-release: ${(err as Error).message}\n\n${RELEASE_USAGE}`);
        process.exit(2);
      }
      console.error(err);
      process.exit(1);
    },
  );
