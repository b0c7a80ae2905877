/**
 * Delivery rules every Plowline tracker shares: when to give up, default back-off.
 *
 * GENERATED from spec/delivery/rules.yaml by plowline.spec.generate: do not edit.
 * Regenerate with: uv run python -m plowline.spec.generate
 */

/** Non-2xx statuses that end a request without retry; every other one is retried. */
export const GIVE_UP_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 410, 422]);
export const MAX_ATTEMPTS = 5;
export const INITIAL_BACKOFF_MS = 250;
export const BACKOFF_MULTIPLIER = 2;
export const MAX_BACKOFF_MS = 30000;
export const JITTER = 0.5;
export const HONOUR_RETRY_AFTER = true;
export const MAX_RETRY_AFTER_MS = 300000;
