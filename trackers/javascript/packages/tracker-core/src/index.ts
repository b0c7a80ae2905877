export * from './base64.js';
export * from './errors.js';
export * from './payload.js';
export * from './schemas.js';
export * from './events.js';
export * from './subject.js';
export * from './core.js';
export * from './emitter.js';
export { VERSION } from './version.js';
