/** Automatic link-click and form tracking, and the cross-domain linker, by event delegation. */
import { buildChangeForm, buildFocusForm, buildLinkClick, buildSubmitForm, type FormElement } from '@plowline/tracker-core';
import type { BrowserTracker } from './tracker.js';

export interface LinkTrackingOptions {
  /** Send the link's innerHTML as elementContent (default false). */
  trackContent?: boolean;
  /** Track only links for which this returns true. */
  filter?: (link: HTMLAnchorElement | HTMLAreaElement) => boolean;
  /** Internal: only decorate links for the cross-domain linker, send no event. */
  linkerOnly?: boolean;
}

type Link = HTMLAnchorElement | HTMLAreaElement;

function linkOf(target: EventTarget | null): Link | undefined {
  const el = target instanceof Element ? target.closest('a[href], area[href]') : null;
  return el ? (el as Link) : undefined;
}

function decorate(tracker: BrowserTracker, link: Link): void {
  if (!tracker.wantsLinker(link)) return;
  try {
    const url = new URL(link.href);
    url.searchParams.set('_sp', tracker.crossDomainValue());
    link.href = url.toString();
  } catch {
    // not a URL we can rewrite
  }
}

export function enableLinks(tracker: BrowserTracker, options: LinkTrackingOptions): () => void {
  // mousedown decorates before the browser reads href (also for middle / context clicks).
  const onDown = (e: Event): void => {
    const link = linkOf(e.target);
    if (link) decorate(tracker, link);
  };
  const onClick = (e: Event): void => {
    const link = linkOf(e.target);
    if (!link) return;
    decorate(tracker, link);
    if (options.linkerOnly || (options.filter && !options.filter(link))) return;
    const classes = Array.from(link.classList);
    const target = link.target;
    tracker.track(
      buildLinkClick({
        targetUrl: link.href,
        elementId: link.id || undefined,
        elementClasses: classes.length ? classes : undefined,
        elementTarget: target || undefined,
        elementContent: options.trackContent ? link.innerHTML : undefined,
      }),
    );
  };
  document.addEventListener('mousedown', onDown, true);
  document.addEventListener('click', onClick, true);
  document.addEventListener('auxclick', onClick, true);
  return () => {
    document.removeEventListener('mousedown', onDown, true);
    document.removeEventListener('click', onClick, true);
    document.removeEventListener('auxclick', onClick, true);
  };
}

export interface FormTrackingOptions {
  /** Track only forms for which this returns true. */
  forms?: (form: HTMLFormElement) => boolean;
  /** Track only fields for which this returns true (password fields are never tracked). */
  fields?: (field: Field) => boolean;
  /** Also send focus_form when a field gains focus (default false). */
  focus?: boolean;
}

type Field = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

function isField(el: unknown): el is Field {
  return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement;
}

function formIdOf(form: HTMLFormElement | null): string {
  return form ? form.id || form.getAttribute('name') || '' : '';
}

function inputType(el: Field): string | undefined {
  return el instanceof HTMLInputElement ? el.type : undefined;
}

export function enableForms(tracker: BrowserTracker, options: FormTrackingOptions): () => void {
  const wanted = (el: Field): boolean =>
    inputType(el) !== 'password' && (!el.form || !options.forms || options.forms(el.form)) && (!options.fields || options.fields(el));
  const onChange = (e: Event): void => {
    const el = e.target;
    if (!isField(el) || !wanted(el)) return;
    const classes = Array.from(el.classList);
    tracker.track(
      buildChangeForm({
        formId: formIdOf(el.form),
        elementId: el.id || el.name,
        nodeName: el.nodeName,
        type: inputType(el),
        elementClasses: classes.length ? classes : undefined,
        value: el.value,
      }),
    );
  };
  const onFocus = (e: Event): void => {
    const el = e.target;
    if (!isField(el) || !wanted(el)) return;
    const classes = Array.from(el.classList);
    tracker.track(
      buildFocusForm({
        formId: formIdOf(el.form),
        elementId: el.id || el.name,
        nodeName: el.nodeName,
        elementType: inputType(el),
        elementClasses: classes.length ? classes : undefined,
        value: el.value,
      }),
    );
  };
  const onSubmit = (e: Event): void => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || (options.forms && !options.forms(form))) return;
    const elements: FormElement[] = [];
    for (const el of Array.from(form.elements)) {
      if (!isField(el) || !el.name || !wanted(el)) continue;
      const type = inputType(el);
      if (type === 'submit' || type === 'button' || type === 'reset' || type === 'image') continue;
      const item: FormElement = { name: el.name, value: el.value, nodeName: el.nodeName };
      if (type) item.type = type;
      elements.push(item);
    }
    const classes = Array.from(form.classList);
    tracker.track(
      buildSubmitForm({ formId: formIdOf(form), formClasses: classes.length ? classes : undefined, elements }),
    );
  };
  document.addEventListener('change', onChange, true);
  document.addEventListener('submit', onSubmit, true);
  if (options.focus) document.addEventListener('focus', onFocus, true);
  return () => {
    document.removeEventListener('change', onChange, true);
    document.removeEventListener('submit', onSubmit, true);
    document.removeEventListener('focus', onFocus, true);
  };
}
