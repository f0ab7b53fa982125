// The wire contract of idle-sense: request/response types and their validation schemas, nothing else.
export * from './errors.js';
export * from './jobs.js';
export * from './contributors.js';
export * from './validation.js';
