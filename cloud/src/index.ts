export { startCloud, type RunningCloud, type StartCloudExtras } from './app.js';
export { CloudOptions, type CloudOptionsInput } from './config.js';
export { parseCli, type CliResult } from './cli.js';
export * from './store/index.js';
export { Ingest, RejectLog, type IngestOptions, type IngestEvents, type IngestStatsSnapshot } from './ingest/index.js';
export {
  startBroker,
  authorizeDevicePublish,
  authorizeDeviceSubscribe,
  isInternalClientId,
  INTERNAL_CLIENT_PREFIX,
  type BrokerOptions,
  type RunningBroker,
  type BrokerTlsOptions,
} from './broker/index.js';
export * from './identity/index.js';
export { CommandService, type CommandOutcome } from './commands/index.js';
export * from './ota/index.js';
