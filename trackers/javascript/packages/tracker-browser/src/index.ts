export { BrowserTracker, newTracker, type BrowserTrackerConfig } from './tracker.js';
export type { ActivityOptions } from './activity.js';
export type { FormTrackingOptions, LinkTrackingOptions } from './dom.js';
export { clientSessionEntity, type SessionState } from './session.js';
export * from '@plowline/tracker-core';
