/**
 * Event builders: each checks its arguments at the call and returns the event's own wire
 * parameters; the tracker core adds the common ones (tv, tna, aid, p, eid, dtm, subject).
 */
import { InvalidEventError } from './errors.js';
import { checkSdj, numberText, put, type Payload, type SelfDescribingJson } from './payload.js';
import * as S from './schemas.js';

/** One wire event before the tracker finishes it: its params and, for e=ue, the event SDJ. */
export interface WireEventParts {
  params: Payload;
  unstruct?: SelfDescribingJson;
}

/** What a builder returns: one or more wire events sharing entities and true timestamp. */
export interface BuiltEvent {
  parts: WireEventParts[];
  contexts: SelfDescribingJson[];
  trueTimestamp?: number;
}

/** Options every event takes. */
export interface CommonEventOptions {
  /** Entities attached to the event (sent in co / cx). */
  context?: readonly SelfDescribingJson[];
  /** User-asserted time of the event, ms since epoch (ttm). */
  trueTimestamp?: number;
}

function text(name: string, value: unknown, allowEmpty = false): string {
  if (typeof value !== 'string') throw new InvalidEventError(`${name} must be a string, got ${typeof value}`);
  if (!allowEmpty && value === '') throw new InvalidEventError(`${name} must not be empty`);
  return value;
}

function optText(name: string, value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : text(name, value, true);
}

function int(name: string, value: unknown, minimum?: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidEventError(`${name} must be an integer, got ${String(value)}`);
  }
  if (minimum !== undefined && value < minimum) throw new InvalidEventError(`${name} must be >= ${minimum}`);
  return value;
}

function num(name: string, value: unknown): number {
  if (typeof value !== 'number') throw new InvalidEventError(`${name} must be a number, got ${typeof value}`);
  numberText(name, value);
  return value;
}

function optNum(name: string, value: unknown): number | undefined {
  return value === undefined || value === null ? undefined : num(name, value);
}

function textList(name: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new InvalidEventError(`${name} must be a list of strings`);
  return value.map((v, i) => text(`${name}[${i}]`, v, true));
}

/** Drop undefined properties (the schemas forbid explicit nulls for most optional ones). */
function compact(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (v !== undefined) out[k] = v;
  return out;
}

function finish(parts: WireEventParts[], opts: CommonEventOptions): BuiltEvent {
  const ctx = opts.context ?? [];
  if (!Array.isArray(ctx)) throw new InvalidEventError('context must be a list of self-describing JSON');
  const built: BuiltEvent = { parts, contexts: ctx.map((c, i) => checkSdj(`context[${i}]`, c)) };
  if (opts.trueTimestamp !== undefined) built.trueTimestamp = int('trueTimestamp', opts.trueTimestamp, 0);
  return built;
}

function unstruct(event: SelfDescribingJson, opts: CommonEventOptions): BuiltEvent {
  return finish([{ params: { e: 'ue' }, unstruct: event }], opts);
}

export interface PageViewEvent extends CommonEventOptions {
  pageUrl: string;
  pageTitle?: string;
  referrer?: string;
}

export function buildPageView(ev: PageViewEvent): BuiltEvent {
  const params: Payload = { e: 'pv', url: text('pageUrl', ev.pageUrl) };
  put(params, 'page', optText('pageTitle', ev.pageTitle));
  put(params, 'refr', optText('referrer', ev.referrer));
  return finish([{ params }], ev);
}

export interface PagePingEvent extends PageViewEvent {
  minXOffset: number;
  maxXOffset: number;
  minYOffset: number;
  maxYOffset: number;
}

export function buildPagePing(ev: PagePingEvent): BuiltEvent {
  const params: Payload = { e: 'pp', url: text('pageUrl', ev.pageUrl) };
  put(params, 'page', optText('pageTitle', ev.pageTitle));
  put(params, 'refr', optText('referrer', ev.referrer));
  params['pp_mix'] = String(int('minXOffset', ev.minXOffset));
  params['pp_max'] = String(int('maxXOffset', ev.maxXOffset));
  params['pp_miy'] = String(int('minYOffset', ev.minYOffset));
  params['pp_may'] = String(int('maxYOffset', ev.maxYOffset));
  return finish([{ params }], ev);
}

export interface StructuredEvent extends CommonEventOptions {
  category: string;
  action: string;
  label?: string;
  property?: string;
  value?: number;
}

export function buildStructEvent(ev: StructuredEvent): BuiltEvent {
  const params: Payload = { e: 'se', se_ca: text('category', ev.category), se_ac: text('action', ev.action) };
  put(params, 'se_la', optText('label', ev.label));
  put(params, 'se_pr', optText('property', ev.property));
  put(params, 'se_va', optNum('value', ev.value));
  return finish([{ params }], ev);
}

export interface SelfDescribingEvent extends CommonEventOptions {
  event: SelfDescribingJson;
}

export function buildSelfDescribingEvent(ev: SelfDescribingEvent): BuiltEvent {
  return unstruct(checkSdj('event', ev.event), ev);
}

export interface ScreenViewEvent extends CommonEventOptions {
  name: string;
  id?: string;
  /** `mobile` (default): com.snowplowanalytics.mobile/screen_view; `legacy`: the snowplow one. */
  variant?: 'mobile' | 'legacy';
  type?: string;
  previousName?: string;
  previousId?: string;
  previousType?: string;
  transitionType?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function buildScreenView(ev: ScreenViewEvent): BuiltEvent {
  const name = text('name', ev.name);
  if ((ev.variant ?? 'mobile') === 'legacy') {
    return unstruct({ schema: S.LEGACY_SCREEN_VIEW_SCHEMA, data: compact({ name, id: optText('id', ev.id) }) }, ev);
  }
  if (ev.variant !== undefined && ev.variant !== 'mobile') {
    throw new InvalidEventError(`variant must be 'mobile' or 'legacy', got ${String(ev.variant)}`);
  }
  const id = text('id', ev.id);
  if (!UUID.test(id)) throw new InvalidEventError('id of a mobile screen view must be a UUID');
  const data = compact({
    name,
    id,
    type: optText('type', ev.type),
    previousName: optText('previousName', ev.previousName),
    previousId: optText('previousId', ev.previousId),
    previousType: optText('previousType', ev.previousType),
    transitionType: optText('transitionType', ev.transitionType),
  });
  return unstruct({ schema: S.MOBILE_SCREEN_VIEW_SCHEMA, data }, ev);
}

export interface LinkClickEvent extends CommonEventOptions {
  targetUrl: string;
  elementId?: string;
  elementClasses?: string[];
  elementTarget?: string;
  elementContent?: string;
}

export function buildLinkClick(ev: LinkClickEvent): BuiltEvent {
  const data = compact({
    targetUrl: text('targetUrl', ev.targetUrl),
    elementId: optText('elementId', ev.elementId),
    elementClasses: textList('elementClasses', ev.elementClasses),
    elementTarget: optText('elementTarget', ev.elementTarget),
    elementContent: optText('elementContent', ev.elementContent),
  });
  return unstruct({ schema: S.LINK_CLICK_SCHEMA, data }, ev);
}

const NODE_NAMES = new Set(['INPUT', 'TEXTAREA', 'SELECT']);

function nodeName(name: string, value: unknown): string {
  const v = text(name, value);
  if (!NODE_NAMES.has(v)) throw new InvalidEventError(`${name} must be INPUT, TEXTAREA or SELECT`);
  return v;
}

export interface FormElement {
  name: string;
  value: string | null;
  nodeName: string;
  type?: string;
}

export interface SubmitFormEvent extends CommonEventOptions {
  formId: string;
  formClasses?: string[];
  elements?: FormElement[];
}

export function buildSubmitForm(ev: SubmitFormEvent): BuiltEvent {
  let elements: Record<string, unknown>[] | undefined;
  if (ev.elements !== undefined) {
    if (!Array.isArray(ev.elements)) throw new InvalidEventError('elements must be a list');
    elements = ev.elements.map((el, i) =>
      compact({
        name: text(`elements[${i}].name`, el.name, true),
        value: el.value === null ? null : text(`elements[${i}].value`, el.value, true),
        nodeName: nodeName(`elements[${i}].nodeName`, el.nodeName),
        type: optText(`elements[${i}].type`, el.type),
      }),
    );
  }
  const data = compact({
    formId: text('formId', ev.formId, true),
    formClasses: textList('formClasses', ev.formClasses),
    elements,
  });
  return unstruct({ schema: S.SUBMIT_FORM_SCHEMA, data }, ev);
}

export interface ChangeFormEvent extends CommonEventOptions {
  formId: string;
  elementId: string;
  nodeName: string;
  value: string | null;
  type?: string;
  elementClasses?: string[];
}

export function buildChangeForm(ev: ChangeFormEvent): BuiltEvent {
  const data = compact({
    formId: text('formId', ev.formId, true),
    elementId: text('elementId', ev.elementId, true),
    nodeName: nodeName('nodeName', ev.nodeName),
    type: optText('type', ev.type),
    elementClasses: textList('elementClasses', ev.elementClasses),
    value: ev.value === null ? null : text('value', ev.value, true),
  });
  return unstruct({ schema: S.CHANGE_FORM_SCHEMA, data }, ev);
}

export interface FocusFormEvent extends CommonEventOptions {
  formId: string;
  elementId: string;
  nodeName: string;
  value: string | null;
  elementType?: string;
  elementClasses?: string[];
}

export function buildFocusForm(ev: FocusFormEvent): BuiltEvent {
  const data = compact({
    formId: text('formId', ev.formId, true),
    elementId: text('elementId', ev.elementId, true),
    nodeName: nodeName('nodeName', ev.nodeName),
    elementType: optText('elementType', ev.elementType),
    elementClasses: textList('elementClasses', ev.elementClasses),
    value: ev.value === null ? null : text('value', ev.value, true),
  });
  return unstruct({ schema: S.FOCUS_FORM_SCHEMA, data }, ev);
}

export interface SiteSearchEvent extends CommonEventOptions {
  terms: string[];
  filters?: Record<string, string | boolean>;
  totalResults?: number;
  pageResults?: number;
}

export function buildSiteSearch(ev: SiteSearchEvent): BuiltEvent {
  const terms = textList('terms', ev.terms);
  if (!terms || terms.length === 0) throw new InvalidEventError('terms must hold at least one term');
  if (ev.filters !== undefined && (typeof ev.filters !== 'object' || ev.filters === null)) {
    throw new InvalidEventError('filters must be an object of strings or booleans');
  }
  const data = compact({
    terms,
    filters: ev.filters,
    totalResults: ev.totalResults === undefined ? undefined : int('totalResults', ev.totalResults, 0),
    pageResults: ev.pageResults === undefined ? undefined : int('pageResults', ev.pageResults, 0),
  });
  return unstruct({ schema: S.SITE_SEARCH_SCHEMA, data }, ev);
}

export interface TimingEvent extends CommonEventOptions {
  category: string;
  variable: string;
  timing: number;
  label?: string;
}

export function buildTiming(ev: TimingEvent): BuiltEvent {
  const data = compact({
    category: text('category', ev.category, true),
    variable: text('variable', ev.variable, true),
    timing: num('timing', ev.timing),
    label: optText('label', ev.label),
  });
  return unstruct({ schema: S.TIMING_SCHEMA, data }, ev);
}

export interface TransactionItem {
  sku: string;
  price: number;
  quantity: number;
  name?: string;
  category?: string;
}

export interface EcommerceTransactionEvent extends CommonEventOptions {
  orderId: string;
  totalValue: number;
  affiliation?: string;
  taxValue?: number;
  shipping?: number;
  city?: string;
  state?: string;
  country?: string;
  currency?: string;
  items?: TransactionItem[];
}

/** Legacy ecommerce: one e=tr event, then one e=ti per item (each repeats order id, currency). */
export function buildEcommerceTransaction(ev: EcommerceTransactionEvent): BuiltEvent {
  const orderId = text('orderId', ev.orderId);
  const currency = optText('currency', ev.currency);
  const tr: Payload = { e: 'tr', tr_id: orderId, tr_tt: numberText('totalValue', num('totalValue', ev.totalValue)) };
  put(tr, 'tr_af', optText('affiliation', ev.affiliation));
  put(tr, 'tr_tx', optNum('taxValue', ev.taxValue));
  put(tr, 'tr_sh', optNum('shipping', ev.shipping));
  put(tr, 'tr_ci', optText('city', ev.city));
  put(tr, 'tr_st', optText('state', ev.state));
  put(tr, 'tr_co', optText('country', ev.country));
  put(tr, 'tr_cu', currency);
  const parts: WireEventParts[] = [{ params: tr }];
  (ev.items ?? []).forEach((item, i) => {
    const ti: Payload = {
      e: 'ti',
      ti_id: orderId,
      ti_sk: text(`items[${i}].sku`, item.sku),
      ti_pr: numberText(`items[${i}].price`, num(`items[${i}].price`, item.price)),
      ti_qu: String(int(`items[${i}].quantity`, item.quantity)),
    };
    put(ti, 'ti_nm', optText(`items[${i}].name`, item.name));
    put(ti, 'ti_ca', optText(`items[${i}].category`, item.category));
    put(ti, 'ti_cu', currency);
    parts.push({ params: ti });
  });
  return finish(parts, ev);
}

export interface CartEvent extends CommonEventOptions {
  sku: string;
  quantity: number;
  name?: string;
  category?: string;
  unitPrice?: number;
  currency?: string;
}

function cart(schema: string, ev: CartEvent): BuiltEvent {
  const data = compact({
    sku: text('sku', ev.sku),
    quantity: num('quantity', ev.quantity),
    name: optText('name', ev.name),
    category: optText('category', ev.category),
    unitPrice: optNum('unitPrice', ev.unitPrice),
    currency: optText('currency', ev.currency),
  });
  return unstruct({ schema, data }, ev);
}

/** Self-describing ecommerce: add_to_cart/1-0-0. */
export function buildAddToCart(ev: CartEvent): BuiltEvent {
  return cart(S.ADD_TO_CART_SCHEMA, ev);
}

/** Self-describing ecommerce: remove_from_cart/1-0-0. */
export function buildRemoveFromCart(ev: CartEvent): BuiltEvent {
  return cart(S.REMOVE_FROM_CART_SCHEMA, ev);
}
