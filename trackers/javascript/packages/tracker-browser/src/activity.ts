/**
 * Activity tracking: after `minimumVisitLength` seconds, and then every `heartbeatDelay`
 * seconds, a page ping goes out if the user did something since the last check, carrying the
 * scroll range seen since the last ping.
 */
import type { BrowserTracker } from './tracker.js';

export interface ActivityOptions {
  /** Seconds after the page view before the first ping (default 5). */
  minimumVisitLength?: number;
  /** Seconds between pings (default 10). */
  heartbeatDelay?: number;
}

const ACTIVITY_EVENTS = ['click', 'mousedown', 'mousemove', 'keydown', 'keyup', 'touchstart', 'wheel', 'scroll', 'focus'];

export class ActivityTracker {
  private readonly minimumMs: number;
  private readonly heartbeatMs: number;
  /** Whether the user did something since the last check. */
  private active = false;
  private timeout: ReturnType<typeof setTimeout> | undefined;
  private interval: ReturnType<typeof setInterval> | undefined;
  private minX = 0;
  private maxX = 0;
  private minY = 0;
  private maxY = 0;
  private readonly onActivity = (): void => {
    this.active = true;
    this.updateOffsets();
  };

  constructor(
    private readonly tracker: BrowserTracker,
    options: ActivityOptions,
  ) {
    this.minimumMs = (options.minimumVisitLength ?? 5) * 1000;
    this.heartbeatMs = (options.heartbeatDelay ?? 10) * 1000;
    if (!(this.heartbeatMs > 0) || !(this.minimumMs >= 0)) throw new RangeError('heartbeatDelay must be > 0, minimumVisitLength >= 0');
    for (const type of ACTIVITY_EVENTS) document.addEventListener(type, this.onActivity, { capture: true, passive: true });
    window.addEventListener('scroll', this.onActivity, { passive: true });
  }

  /** A page view starts a new ping schedule. */
  pageViewed(): void {
    this.clearTimers();
    this.active = false;
    this.resetOffsets();
    this.timeout = setTimeout(() => {
      this.check();
      this.interval = setInterval(() => this.check(), this.heartbeatMs);
    }, this.minimumMs);
  }

  private check(): void {
    if (this.active) {
      this.updateOffsets();
      this.tracker.trackPagePing({ minX: this.minX, maxX: this.maxX, minY: this.minY, maxY: this.maxY });
      this.resetOffsets();
    }
    this.active = false;
  }

  private resetOffsets(): void {
    this.minX = this.maxX = Math.round(window.scrollX);
    this.minY = this.maxY = Math.round(window.scrollY);
  }

  private updateOffsets(): void {
    const x = Math.round(window.scrollX);
    const y = Math.round(window.scrollY);
    this.minX = Math.min(this.minX, x);
    this.maxX = Math.max(this.maxX, x);
    this.minY = Math.min(this.minY, y);
    this.maxY = Math.max(this.maxY, y);
  }

  private clearTimers(): void {
    clearTimeout(this.timeout);
    clearInterval(this.interval);
  }

  stop(): void {
    this.clearTimers();
    for (const type of ACTIVITY_EVENTS) document.removeEventListener(type, this.onActivity, { capture: true });
    window.removeEventListener('scroll', this.onActivity);
  }
}
