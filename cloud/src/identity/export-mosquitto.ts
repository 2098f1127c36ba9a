#!/usr/bin/env node
/**
 * Writes Mosquitto's password and ACL files from the cloud's device registry and prints the
 * matching mosquitto.conf lines:
 *
 *   node cloud/dist/identity/export-mosquitto.js --data-dir ./data --out /etc/mosquitto/shelfsight \
 *     [--service shelfsight-cloud-ingest=/run/secrets/ingest-password]…
 *
 * `--service NAME=FILE` adds a non-device account (read/write on shelfsight/v1/#) whose password is
 * read from FILE. Run again (and SIGHUP mosquitto) after provisioning or revoking devices.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mosquittoConfig, writeMosquittoFiles, type MosquittoServiceUser } from './mosquitto.js';
import { DeviceRegistry } from './registry.js';
import { hashPassword } from './secrets.js';
import { identityDir } from './service.js';

const main = async (): Promise<number> => {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string', default: process.env.SHELFSIGHT_DATA_DIR ?? './data' },
      out: { type: 'string' },
      service: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  if (!values.out) {
    process.stderr.write('usage: export-mosquitto --data-dir DIR --out DIR [--service NAME=PASSWORD_FILE]…\n');
    return 2;
  }
  const registry = await DeviceRegistry.open({ file: path.join(identityDir(values['data-dir']), 'devices.json') });
  const services: MosquittoServiceUser[] = [];
  for (const spec of values.service) {
    const eq = spec.indexOf('=');
    if (eq < 1) {
      process.stderr.write(`--service wants NAME=PASSWORD_FILE, got ${JSON.stringify(spec.split('=')[0])}\n`);
      return 2;
    }
    const password = (await readFile(spec.slice(eq + 1), 'utf8')).split('\n')[0]!.trim();
    services.push({ username: spec.slice(0, eq), passwordHash: await hashPassword(password) });
  }
  const files = await writeMosquittoFiles(registry, path.resolve(values.out), services);
  process.stderr.write(
    `wrote ${files.passwordFile} (${registry.activeCredentialHashes().length} devices, ${services.length} services) and ${files.aclFile}\n`,
  );
  process.stdout.write(mosquittoConfig(files));
  return 0;
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`export-mosquitto: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
