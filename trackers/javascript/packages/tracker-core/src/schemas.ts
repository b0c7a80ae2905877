/** Iglu URIs the trackers emit. */
const SP = 'iglu:com.snowplowanalytics.snowplow';
export const PAYLOAD_DATA_SCHEMA = `${SP}/payload_data/jsonschema/1-0-4`;
export const CONTEXTS_SCHEMA = `${SP}/contexts/jsonschema/1-0-1`;
export const UNSTRUCT_EVENT_SCHEMA = `${SP}/unstruct_event/jsonschema/1-0-0`;
export const LINK_CLICK_SCHEMA = `${SP}/link_click/jsonschema/1-0-1`;
export const SUBMIT_FORM_SCHEMA = `${SP}/submit_form/jsonschema/1-0-0`;
export const CHANGE_FORM_SCHEMA = `${SP}/change_form/jsonschema/1-0-0`;
export const FOCUS_FORM_SCHEMA = `${SP}/focus_form/jsonschema/1-0-0`;
export const SITE_SEARCH_SCHEMA = `${SP}/site_search/jsonschema/1-0-0`;
export const TIMING_SCHEMA = `${SP}/timing/jsonschema/1-0-0`;
export const LEGACY_SCREEN_VIEW_SCHEMA = `${SP}/screen_view/jsonschema/1-0-0`;
export const MOBILE_SCREEN_VIEW_SCHEMA = 'iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0';
export const CLIENT_SESSION_SCHEMA = `${SP}/client_session/jsonschema/1-0-2`;
export const WEB_PAGE_SCHEMA = `${SP}/web_page/jsonschema/1-0-0`;
export const ADD_TO_CART_SCHEMA = `${SP}/add_to_cart/jsonschema/1-0-0`;
export const REMOVE_FROM_CART_SCHEMA = `${SP}/remove_from_cart/jsonschema/1-0-0`;
