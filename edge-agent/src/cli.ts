#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EdgeAgent } from './agent.js';
import { createCamera } from './camera/index.js';
import { ConfigError, loadAgentConfig } from './config/load.js';
import { createLogger } from './log.js';
import { ProvisioningRefused, ensureCredentials, resolveSecretPaths } from './provisioning/index.js';
import { loadTrustedKeys, resolveModelDir } from './ota/index.js';
import { loadRecognizer } from './recognition/index.js';
import { StateFile } from './state.js';
import { runEnrollCli } from './enroll-cli.js';

const USAGE = `usage: shelfsight-agent --config FILE [--log-level LEVEL] [--once]
       shelfsight-agent enroll --help

  --config FILE      agent config (JSON); see edge-agent/README.md
  --log-level LEVEL  overrides the config's logLevel (trace|debug|info|warn|error)
  --once             capture and publish one observation, wait for its PUBACK, exit`;

const main = async (): Promise<number> => {
  if (process.argv[2] === 'enroll') return runEnrollCli(process.argv.slice(3));
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string' },
        'log-level': { type: 'string' },
        once: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (!args.config) {
    console.error(`--config is required\n\n${USAGE}`);
    return 2;
  }
  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  // A `restart` command re-reads the config and reloads the models in the same process, so it
  // works under systemd (same PID) and without any supervisor at all.
  for (;;) {
    const outcome = await run({ config: args.config, logLevel: args['log-level'], once: args.once }, stopSignal);
    if (outcome !== 'restart') return outcome;
  }
};

const run = async (
  args: { config: string; logLevel: string | undefined; once: boolean | undefined },
  stopSignal: Promise<string>,
): Promise<number | 'restart'> => {
  let config;
  try {
    config = await loadAgentConfig(args.config);
    if (args.logLevel) config = { ...config, logLevel: args.logLevel as typeof config.logLevel };
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const log = createLogger(config.logLevel, 'shelfsight-agent', config.logFile);
  // Credentials: from the config, from an earlier provisioning, or by claiming them now (first start).
  try {
    config = await ensureCredentials(resolveSecretPaths(config, path.dirname(path.resolve(args.config))), { log });
  } catch (err) {
    if (!(err instanceof ProvisioningRefused)) throw err;
    log.fatal({ status: err.status, code: err.code }, err.message);
    console.error(err.message);
    return 2;
  }
  const modelDir = await resolveModelDir(config);
  const applied = (await StateFile.open(config.dataDir)).state.appliedConfig?.thresholds ?? {};
  const recognizer = await loadRecognizer({
    modelDir,
    logger: log,
    ...(applied.detection !== undefined ? { scoreThreshold: applied.detection } : {}),
    ...(applied.unknown !== undefined ? { unknownThreshold: applied.unknown } : {}),
  });
  const trustedKeys = await loadTrustedKeys(config);
  log.info(
    { model: recognizer.model, gallery: recognizer.gallery, modelDir, otaKeys: trustedKeys.length },
    'models loaded',
  );
  const agent = new EdgeAgent({
    config,
    camera: await createCamera(config.camera),
    recognizer,
    modelDir,
    loadRecognizer,
    trustedKeys,
    log,
  });
  await agent.start();

  if (args.once) {
    await agent.capture('command');
    const deadline = Date.now() + 60_000;
    while (agent.outboxDepth > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const left = agent.outboxDepth;
    await agent.stop();
    return left === 0 ? 0 : 1;
  }

  const restart = new Promise<'restart'>((resolve) => agent.once('restart', () => resolve('restart')));
  const why = await Promise.race([stopSignal, restart]);
  log.info({ reason: why }, why === 'restart' ? 'restarting on command' : 'stopping');
  await agent.stop();
  return why === 'restart' ? 'restart' : 0;
};

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
