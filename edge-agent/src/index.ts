export { EdgeAgent, AGENT_VERSION, type AgentDeps, type CaptureResult, type CaptureTrigger } from './agent.js';
export { AgentConfig, type AgentConfigInput } from './config/schema.js';
export { loadAgentConfig, parseAgentConfig, ConfigError } from './config/load.js';
export * from './camera/index.js';
export * from './outbox/index.js';
export { buildObservation, type CaptureContext } from './observation/build.js';
export { createLogger } from './log.js';
export { loadRecognizer } from './recognition/index.js';
export type { Recognition, Recognizer, RecognizerOptions } from './recognition/types.js';
