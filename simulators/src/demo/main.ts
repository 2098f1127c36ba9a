#!/usr/bin/env node
/**
 * `npm start`: the whole system on one machine with embedded defaults — the cloud (MQTT broker,
 * ingest, store, REST, dashboard), simulated coolers served as HTTP cameras, and one real edge agent
 * process per cooler recognising frames with the shipped ONNX models.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startVirtualCameras } from '../cameras/index.js';
import { demoMasterData, seedDemo } from './masterdata.js';
import { USAGE, parseDemoOptions, type DemoOptions } from './options.js';
import { startProcess, stopProcess, tail, type Managed } from './processes.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cloudMain = path.join(root, 'cloud/dist/main.js');
const agentMain = path.join(root, 'edge-agent/dist/cli.js');
const releaseMain = path.join(root, 'cloud/dist/ota/release-cli.js');
// As the agent's systemd unit runs it (D41): two malloc arenas hold ~20 MB less than glibc's default.
const agentEnv = { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' };

/**
 * The demo's release key (made once with the release CLI): agents trust its public half, so a SKU
 * enrolled on the dashboard can be shipped to them with `npm run release -- publish …`. In the field
 * the private key stays off the cloud machine; here everything is one laptop.
 */
const ensureReleaseKey = async (dir: string): Promise<{ keyFile: string; publicKey: string }> => {
  const keyFile = path.join(dir, 'release.pem');
  const pubFile = path.join(dir, 'release.pub');
  const existing = await readFile(pubFile, 'utf8').catch(() => null);
  if (existing) return { keyFile, publicKey: existing.trim() };
  await mkdir(dir, { recursive: true });
  const { stdout } = await promisify(execFile)(process.execPath, [releaseMain, 'keygen', '--out', keyFile]);
  const publicKey = (JSON.parse(stdout) as { publicKeyBase64: string }).publicKeyBase64;
  await writeFile(pubFile, `${publicKey}\n`);
  return { keyFile, publicKey };
};
const modelDir = path.join(root, 'models');

const say = (msg: string) => console.log(`${new Date().toISOString().slice(11, 19)}  ${msg}`);

const waitForHttp = async (url: string, p: Managed, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited with code ${p.child.exitCode}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${p.name} did not answer ${url} within ${timeoutMs / 1000} s`);
};

/** Asks the cloud for a one-time claim token bound to this device, outlet and fixture. */
const createClaim = async (
  httpUrl: string,
  adminToken: string,
  deviceId: string,
  cam: { outletId: string; fixtureId: string },
): Promise<string> => {
  const res = await fetch(`${httpUrl}/api/v1/claims`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      deviceId,
      outletId: cam.outletId,
      fixtureId: cam.fixtureId,
      note: 'npm start demo',
      ttlS: 3600,
    }),
  });
  if (!res.ok) throw new Error(`creating a claim token for ${deviceId} failed: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { claimToken: string }).claimToken;
};

interface FixtureSummary {
  fixtureId: string;
  outletId: string;
  capturedAt: string;
  skus: { sku: string; count: number; facings: number }[];
  emptyFacings: number;
  unknownProducts: number;
}

/** Prints one line per new observation so the terminal shows the system working (reads need log-in: admin token). */
const watchObservations = (apiUrl: string, adminToken: string): (() => void) => {
  const seen = new Map<string, string>();
  const timer = setInterval(async () => {
    try {
      const res = await fetch(`${apiUrl}/api/v1/fixtures`, {
        headers: { authorization: `Bearer ${adminToken}` },
        signal: AbortSignal.timeout(3000),
      });
      if (!res.ok) return;
      const body = (await res.json()) as { items: FixtureSummary[] };
      for (const f of body.items) {
        if (seen.get(f.fixtureId) === f.capturedAt) continue;
        seen.set(f.fixtureId, f.capturedAt);
        const products = f.skus.reduce((n, s) => n + s.count, 0);
        say(
          `${f.outletId}/${f.fixtureId}: ${products} products in ${f.skus.length} SKUs, ` +
            `${f.emptyFacings} empty facings, ${f.unknownProducts} unknown (captured ${f.capturedAt.slice(11, 19)})`,
        );
      }
    } catch {
      /* the cloud may be restarting; keep watching */
    }
  }, 2000);
  return () => clearInterval(timer);
};

const run = async (opts: DemoOptions): Promise<number> => {
  const dataDir = path.resolve(opts.dataDir);
  const logDir = path.join(dataDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const host = opts.host;
  const httpUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${opts.httpPort}`;
  const mqttUrl = `mqtt://${host === '0.0.0.0' ? '127.0.0.1' : host}:${opts.mqttPort}`;
  const cloudDir = path.join(dataDir, 'cloud');
  const agents: Managed[] = [];
  let cloud: Managed | undefined;
  let cameras: Awaited<ReturnType<typeof startVirtualCameras>> | undefined;
  let stopWatching = () => {};

  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    stopWatching();
    say('stopping: agents…');
    await Promise.all(agents.map((a) => stopProcess(a)));
    say('stopping: cameras…');
    await cameras?.close();
    if (cloud) {
      say('stopping: cloud…');
      await stopProcess(cloud);
    }
    say(`stopped. Data kept in ${dataDir}`);
  };
  // Children live in their own process groups; make sure none outlives the demo.
  process.once('exit', () =>
    [cloud, ...agents].forEach((p) => p && p.child.exitCode === null && p.child.kill('SIGKILL')),
  );

  try {
    say(`starting cloud (HTTP ${opts.httpPort}, MQTT ${opts.mqttPort}, data ${dataDir})…`);
    cloud = startProcess(
      'cloud',
      [
        cloudMain,
        '--http-port',
        String(opts.httpPort),
        '--mqtt-port',
        String(opts.mqttPort),
        '--host',
        host,
        '--data-dir',
        cloudDir,
      ],
      path.join(logDir, 'cloud.log'),
    );
    await waitForHttp(`${httpUrl}/api/v1/healthz`, cloud, 30_000);

    cameras = await startVirtualCameras({ port: opts.cameraPort, host, cameras: opts.coolers, seed: 1 });
    say(`${cameras.cameras.length} simulated coolers serving snapshots at ${cameras.url}/cameras`);

    // Devices authenticate with their own credentials: each agent gets a one-time claim token and
    // provisions itself on first start, exactly as a field device would.
    const adminToken =
      process.env.SHELFSIGHT_ADMIN_TOKEN?.trim() ||
      (await readFile(path.join(cloudDir, 'identity', 'admin-token'), 'utf8')).trim();
    const manager = await seedDemo(httpUrl, adminToken, demoMasterData(cameras.cameras, cameras.sims, opts.intervalS));
    const release = await ensureReleaseKey(path.join(dataDir, 'release'));
    for (const cam of cameras.cameras) {
      const deviceId = `cam-${cam.id}`;
      const agentDir = path.join(dataDir, 'agents', deviceId);
      await mkdir(agentDir, { recursive: true });
      const configFile = path.join(agentDir, 'agent.json');
      const provisioned = await access(path.join(agentDir, 'credentials.json')).then(
        () => true,
        () => false,
      );
      const claimToken = provisioned ? undefined : await createClaim(httpUrl, adminToken, deviceId, cam);
      await writeFile(
        configFile,
        JSON.stringify(
          {
            deviceId,
            outletId: cam.outletId,
            fixtureId: cam.fixtureId,
            mqtt: { url: mqttUrl },
            ...(claimToken ? { provisioning: { url: httpUrl, claimToken } } : {}),
            camera: { kind: 'http', url: cam.snapshotUrl },
            door: { kind: 'sse', url: cam.doorEventsUrl },
            capture: { intervalS: opts.intervalS },
            modelDir,
            ota: { publicKeys: [release.publicKey] },
            dataDir: agentDir,
            statusIntervalS: 15,
          },
          null,
          2,
        ),
      );
      agents.push(
        startProcess(deviceId, [agentMain, '--config', configFile], path.join(logDir, `${deviceId}.log`), agentEnv),
      );
    }
    say(`${agents.length} edge agents started (one capture every ${opts.intervalS} s each; logs in ${logDir})`);
    const adminPassword = await readFile(path.join(cloudDir, 'identity', 'admin-password'), 'utf8').then(
      (p) => p.trim(),
      () => '(set earlier; see ' + path.join(cloudDir, 'identity', 'admin-password') + ')',
    );
    console.log(
      [
        '',
        `  Dashboard:  ${httpUrl}`,
        `              admin / ${adminPassword}`,
        manager
          ? `              ${manager.username} / ${manager.password}   (brand manager, Aurora, read-only)`
          : `              aurora-manager (brand manager; password printed on the first run)`,
        `  REST API:   ${httpUrl}/api/v1/fixtures   (dashboard session, or Bearer <${path.join(cloudDir, 'identity', 'admin-token')}>)`,
        `  Ship SKUs enrolled on the Catalog page to the agents:`,
        `              npm run release -- publish --cloud ${httpUrl} --key ${release.keyFile} --catalog --all --admin-token-file ${path.join(cloudDir, 'identity', 'admin-token')}`,
        `  MQTT:       ${mqttUrl}`,
        '',
        '  Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
    stopWatching = watchObservations(httpUrl, adminToken);

    const failed = await new Promise<Managed | null>((resolve) => {
      process.once('SIGINT', () => resolve(null));
      process.once('SIGTERM', () => resolve(null));
      for (const p of [cloud!, ...agents]) void p.exited.then(() => !stopping && resolve(p));
    });
    if (failed) {
      say(`${failed.name} exited unexpectedly (code ${failed.child.exitCode}); last lines of ${failed.logFile}:`);
      console.log(await tail(failed.logFile));
      await stopAll();
      return 1;
    }
    await stopAll();
    return 0;
  } catch (err) {
    say(`demo failed: ${(err as Error).message}`);
    if (cloud) console.log(`last lines of ${cloud.logFile}:\n${await tail(cloud.logFile)}`);
    await stopAll();
    return 1;
  }
};

let opts: DemoOptions;
try {
  opts = parseDemoOptions(process.argv.slice(2), process.env);
} catch (err) {
  console.error(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
run(opts).then((code) => process.exit(code));
