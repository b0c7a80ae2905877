/**
 * Adapters from the language-neutral shapes of spec/vectors and spec/driver (snake_case keys)
 * to this library's API. Used by the conformance drivers and the vector tests; kept in its own
 * entry point (`@plowline/tracker-core/conformance`) so it never lands in a browser bundle.
 */
import { InvalidEventError } from './errors.js';
import * as E from './events.js';
import type { SelfDescribingJson } from './payload.js';
import type { Subject } from './subject.js';

type Obj = Record<string, unknown>;

function obj(name: string, v: unknown): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidEventError(`${name} must be an object`);
  return v as Obj;
}

/** Subject keys of the vectors/driver → Subject. Unknown keys are an error. */
export function subjectFromSpec(raw: unknown): Subject {
  const s = obj('subject', raw);
  const map: Record<string, keyof Subject> = {
    user_id: 'userId',
    domain_user_id: 'domainUserId',
    network_user_id: 'networkUserId',
    screen_resolution: 'screenResolution',
    viewport: 'viewport',
    color_depth: 'colorDepth',
    timezone: 'timezone',
    language: 'language',
    ip_address: 'ipAddress',
    useragent: 'useragent',
    session_id: 'sessionId',
    session_index: 'sessionIndex',
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    const key = map[k];
    if (!key) throw new InvalidEventError(`unknown subject key ${JSON.stringify(k)}`);
    out[key] = v;
  }
  return out as Subject;
}

const EVENT_TYPES = [
  'page_view', 'page_ping', 'structured', 'self_describing', 'screen_view', 'link_click',
  'submit_form', 'change_form', 'focus_form', 'site_search', 'timing', 'ecommerce_transaction', 'add_to_cart', 'remove_from_cart',
] as const;
export type SpecEventType = (typeof EVENT_TYPES)[number];
export const SPEC_EVENT_TYPES: readonly string[] = EVENT_TYPES;

const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Rename snake_case keys one level deep (nested SDJ data is left as is). */
function camelKeys(o: Obj, rename: Record<string, string> = {}): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) out[rename[k] ?? camel(k)] = v;
  return out;
}

/** An event in the vectors' shape (`{type: page_view, page_url: …}`) → BuiltEvent. */
export function eventFromSpec(raw: unknown): E.BuiltEvent {
  const ev = obj('event', raw);
  const { type, contexts, true_timestamp_ms, ...rest } = ev;
  const common: E.CommonEventOptions = {};
  if (contexts !== undefined) common.context = contexts as SelfDescribingJson[];
  if (true_timestamp_ms !== undefined) common.trueTimestamp = true_timestamp_ms as number;
  const args = (rename: Record<string, string> = {}): Obj => ({ ...camelKeys(rest, rename), ...common });
  switch (type) {
    case 'page_view':
      return E.buildPageView(args() as unknown as E.PageViewEvent);
    case 'page_ping':
      return E.buildPagePing(
        args({ min_x: 'minXOffset', max_x: 'maxXOffset', min_y: 'minYOffset', max_y: 'maxYOffset' }) as unknown as E.PagePingEvent,
      );
    case 'structured':
      return E.buildStructEvent(args() as unknown as E.StructuredEvent);
    case 'self_describing':
      return E.buildSelfDescribingEvent(args() as unknown as E.SelfDescribingEvent);
    case 'screen_view':
      // `type` names the event kind, so the vectors spell the screen's type `screen_type`.
      return E.buildScreenView(args({ screen_type: 'type' }) as unknown as E.ScreenViewEvent);
    case 'link_click':
      return E.buildLinkClick(args() as unknown as E.LinkClickEvent);
    case 'submit_form': {
      const a = args();
      if (Array.isArray(a['elements'])) a['elements'] = (a['elements'] as Obj[]).map((el) => camelKeys(obj('element', el)));
      return E.buildSubmitForm(a as unknown as E.SubmitFormEvent);
    }
    case 'change_form':
      // change_form/1-0-0 calls the element's type `type` (focus_form says `elementType`).
      return E.buildChangeForm(args({ element_type: 'type' }) as unknown as E.ChangeFormEvent);
    case 'focus_form':
      return E.buildFocusForm(args() as unknown as E.FocusFormEvent);
    case 'site_search':
      return E.buildSiteSearch(args() as unknown as E.SiteSearchEvent);
    case 'timing':
      return E.buildTiming(args() as unknown as E.TimingEvent);
    case 'ecommerce_transaction': {
      const a = args();
      if (Array.isArray(a['items'])) a['items'] = (a['items'] as Obj[]).map((it) => camelKeys(obj('item', it)));
      return E.buildEcommerceTransaction(a as unknown as E.EcommerceTransactionEvent);
    }
    case 'add_to_cart':
      return E.buildAddToCart(args() as unknown as E.CartEvent);
    case 'remove_from_cart':
      return E.buildRemoveFromCart(args() as unknown as E.CartEvent);
    default:
      throw new UnsupportedEventError(`unsupported event type ${JSON.stringify(type)}`);
  }
}

/** The event type is not one this tracker knows (the driver answers "skipped"). */
export class UnsupportedEventError extends Error {
  override name = 'UnsupportedEventError';
}

/** A clock that always returns `ms`, and an id factory that hands out `ids` in order. */
export function fixedClock(ms: number): () => number {
  return () => ms;
}

export function idSequence(ids: readonly string[]): () => string {
  let i = 0;
  return () => {
    const id = ids[Math.min(i, ids.length - 1)];
    i++;
    if (id === undefined) throw new InvalidEventError('no event id left to inject');
    return id;
  };
}
