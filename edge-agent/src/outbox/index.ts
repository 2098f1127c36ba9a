export * from './file-outbox.js';
