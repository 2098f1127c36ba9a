export * from './ids.js';
export * from './topics.js';
export * from './limits.js';
export * from './observation.js';
export * from './status.js';
export * from './config.js';
export * from './commands.js';
export * from './decode.js';
