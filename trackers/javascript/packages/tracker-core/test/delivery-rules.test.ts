/** The emitter's defaults are spec/delivery/rules.yaml's, read from the spec at test time. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, Emitter, defaultIsRetryable, type SendRequest } from '@plowline/tracker-core';

const RULES = fileURLToPath(new URL('../../../../../spec/delivery/rules.yaml', import.meta.url));

/** The few scalar and list values of rules.yaml this test needs (no YAML dependency). */
function rule(path: string): string {
  const lines = readFileSync(RULES, 'utf8').split('\n');
  const [section, key] = path.includes('.') ? path.split('.') : [undefined, path];
  let inSection = section === undefined;
  for (const line of lines) {
    if (section !== undefined && /^\S/.test(line)) inSection = line.startsWith(`${section}:`);
    const match = new RegExp(`^\\s*${key}:\\s*([^#]+)`).exec(line);
    if (inSection && match && (section === undefined ? /^\S/.test(line) : /^\s/.test(line))) return match[1]!.trim();
  }
  throw new Error(`${path} not in ${RULES}`);
}

describe('delivery rules', () => {
  it('gives up on exactly the give-up statuses and retries every other non-2xx', () => {
    const giveUp = JSON.parse(rule('give_up_statuses')) as number[];
    expect(giveUp).toEqual([400, 401, 403, 410, 422]);
    for (let status = 200; status < 600; status++) {
      const expected = status >= 300 && !giveUp.includes(status);
      expect(defaultIsRetryable(status), String(status)).toBe(expected);
    }
  });

  it('uses the shared default back-off and Retry-After policy', () => {
    expect(DEFAULT_RETRY.maxAttempts).toBe(Number(rule('max_attempts')));
    expect(DEFAULT_RETRY.initialBackoffMs).toBe(Number(rule('backoff.initial_ms')));
    expect(DEFAULT_RETRY.maxBackoffMs).toBe(Number(rule('backoff.max_ms')));
    expect(DEFAULT_RETRY.multiplier).toBe(Number(rule('backoff.multiplier')));
    expect(DEFAULT_RETRY.jitter).toBe(true);
    expect(DEFAULT_RETRY.honourRetryAfter).toBe(rule('retry_after.honoured') === 'true');
    expect(DEFAULT_RETRY.maxRetryAfterMs).toBe(Number(rule('retry_after.max_ms')));
  });

  it('waits within (wait·(1−jitter), wait] by default and honours Retry-After', async () => {
    const jitter = Number(rule('backoff.jitter'));
    const sleeps: number[] = [];
    const answers = [503, 503, { status: 429, retryAfter: '3' }];
    const emitter = new Emitter({
      endpoint: 'http://c.test',
      transport: async (_r: SendRequest) => answers.shift() ?? 200,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    emitter.add({ e: 'pv', eid: 'id-1' });
    expect(await emitter.flush()).toMatchObject({ sent: 1 });
    const first = DEFAULT_RETRY.initialBackoffMs;
    const second = first * DEFAULT_RETRY.multiplier;
    expect(sleeps).toHaveLength(3);
    expect(sleeps[0]).toBeGreaterThan(first * (1 - jitter));
    expect(sleeps[0]).toBeLessThanOrEqual(first);
    expect(sleeps[1]).toBeGreaterThan(second * (1 - jitter));
    expect(sleeps[1]).toBeLessThanOrEqual(second);
    expect(sleeps[2]).toBe(3000);
  });
});
