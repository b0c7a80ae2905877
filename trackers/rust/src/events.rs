//! Event types. Each is a small builder: `PageView::new(url).title("Home")`.
//!
//! Every event also takes entities ([`PageView::context`]), a true timestamp
//! ([`PageView::true_timestamp_ms`]) and a subject of its own ([`PageView::subject`]); the
//! tracker adds the rest (`eid`, `dtm`, `tv`, namespace, app id, platform, its subject and the
//! global contexts). Wire names are those of the Snowplow tracker protocol (our
//! `spec/protocol/parameters.yaml`).

use crate::error::{Error, Result};
use crate::payload::Payload;
use crate::subject::Subject;
use serde_json::{json, Map, Value};

/// Schema of the `ue_pr` / `ue_px` wrapper.
pub const UNSTRUCT_EVENT_SCHEMA: &str = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0";
/// Schema of the `co` / `cx` wrapper.
pub const CONTEXTS_SCHEMA: &str = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1";

/// A self-describing JSON: an Iglu schema URI and data valid against it.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfDescribingJson {
    /// `iglu:vendor/name/jsonschema/M-R-A`.
    pub schema: String,
    /// The instance.
    pub data: Value,
}

impl SelfDescribingJson {
    /// A self-describing JSON of `schema` with `data`.
    pub fn new(schema: impl Into<String>, data: Value) -> Self {
        Self {
            schema: schema.into(),
            data,
        }
    }

    /// `{"schema": ..., "data": ...}`.
    pub fn to_json(&self) -> Value {
        json!({"schema": self.schema, "data": self.data})
    }

    pub(crate) fn validate(&self, what: &str) -> Result<()> {
        let parts: Vec<&str> = self
            .schema
            .strip_prefix("iglu:")
            .unwrap_or("")
            .split('/')
            .collect();
        let version_ok = parts.len() == 4
            && parts[3].split('-').count() == 3
            && parts[3]
                .split('-')
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !version_ok || parts[..3].iter().any(|p| p.is_empty()) {
            return Err(Error::InvalidEvent(format!(
                "{what}: schema {:?} is not an Iglu URI iglu:vendor/name/format/M-R-A",
                self.schema
            )));
        }
        Ok(())
    }
}

/// What every event carries besides its own fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Common {
    pub(crate) contexts: Vec<SelfDescribingJson>,
    pub(crate) true_timestamp_ms: Option<u64>,
    pub(crate) subject: Option<Subject>,
}

macro_rules! common_setters {
    ($($ty:ident),* $(,)?) => {$(
        impl $ty {
            /// Attaches an entity (context) to this event.
            pub fn context(mut self, entity: SelfDescribingJson) -> Self {
                self.common.contexts.push(entity);
                self
            }

            /// Attaches several entities to this event.
            pub fn contexts(mut self, entities: impl IntoIterator<Item = SelfDescribingJson>) -> Self {
                self.common.contexts.extend(entities);
                self
            }

            /// The time the event really happened (`ttm`), in milliseconds since the epoch.
            pub fn true_timestamp_ms(mut self, ms: u64) -> Self {
                self.common.true_timestamp_ms = Some(ms);
                self
            }

            /// Subject fields for this event only, laid over the tracker's subject.
            pub fn subject(mut self, subject: Subject) -> Self {
                self.common.subject = Some(subject);
                self
            }
        }

        impl From<$ty> for Event {
            fn from(event: $ty) -> Self {
                Event::$ty(event)
            }
        }
    )*};
}

macro_rules! opt_setters {
    ($ty:ident { $($(#[$doc:meta])* $name:ident: $kind:tt),* $(,)? }) => {
        impl $ty {$(
            opt_setters!(@one $(#[$doc])* $name: $kind);
        )*}
    };
    (@one $(#[$doc:meta])* $name:ident: String) => {
        $(#[$doc])*
        pub fn $name(mut self, value: impl Into<String>) -> Self {
            self.$name = Some(value.into());
            self
        }
    };
    (@one $(#[$doc:meta])* $name:ident: Classes) => {
        $(#[$doc])*
        pub fn $name<S: Into<String>>(mut self, classes: impl IntoIterator<Item = S>) -> Self {
            self.$name = Some(classes.into_iter().map(Into::into).collect());
            self
        }
    };
    (@one $(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = Some(value);
            self
        }
    };
}

/// A JSON number that prints without a fraction when it has none (`3`, not `3.0`).
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}

/// A decimal as the protocol writes it: shortest round-trip form, `3` rather than `3.0`.
fn decimal(value: f64) -> String {
    #[cfg(feature = "mutants")]
    if crate::mutant::active("rust-decimal-two-places") {
        return format!("{value:.2}");
    }
    format!("{value}")
}

fn non_empty(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::InvalidEvent(format!("{what} must not be empty")));
    }
    Ok(())
}

fn finite(what: &str, value: f64) -> Result<()> {
    if !value.is_finite() {
        return Err(Error::InvalidEvent(format!("{what} must be a finite number")));
    }
    Ok(())
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value);
    }
}

fn strings(values: &Option<Vec<String>>) -> Option<Value> {
    values.as_ref().map(|v| Value::from(v.clone()))
}

/// A page view (`e=pv`).
#[derive(Debug, Clone, PartialEq)]
pub struct PageView {
    url: String,
    title: Option<String>,
    referrer: Option<String>,
    common: Common,
}

impl PageView {
    /// A view of the page at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            title: None,
            referrer: None,
            common: Common::default(),
        }
    }
}
opt_setters!(PageView {
    /// The page title (`page`).
    title: String,
    /// The referrer URL (`refr`).
    referrer: String
});

/// A page ping (`e=pp`): the reader is still on the page, with the scroll range seen.
#[derive(Debug, Clone, PartialEq)]
pub struct PagePing {
    url: String,
    title: Option<String>,
    referrer: Option<String>,
    offsets: (i64, i64, i64, i64),
    common: Common,
}

impl PagePing {
    /// A ping of the page at `url` with the scroll offsets seen since the last ping:
    /// `pp_mix`, `pp_max`, `pp_miy`, `pp_may`.
    pub fn new(url: impl Into<String>, min_x: i64, max_x: i64, min_y: i64, max_y: i64) -> Self {
        Self {
            url: url.into(),
            title: None,
            referrer: None,
            offsets: (min_x, max_x, min_y, max_y),
            common: Common::default(),
        }
    }
}
opt_setters!(PagePing {
    /// The page title (`page`).
    title: String,
    /// The referrer URL (`refr`).
    referrer: String
});

/// A structured event (`e=se`): category, action and optional label, property and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Structured {
    category: String,
    action: String,
    label: Option<String>,
    property: Option<String>,
    value: Option<f64>,
    common: Common,
}

impl Structured {
    /// A structured event with its two required fields.
    pub fn new(category: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            category: category.into(),
            action: action.into(),
            label: None,
            property: None,
            value: None,
            common: Common::default(),
        }
    }
}
opt_setters!(Structured {
    /// `se_la`.
    label: String,
    /// `se_pr`.
    property: String,
    /// `se_va`.
    value: f64
});

/// A self-describing event (`e=ue`) of any schema.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfDescribing {
    event: SelfDescribingJson,
    common: Common,
}

impl SelfDescribing {
    /// The event `event`, sent inside the `unstruct_event` wrapper.
    pub fn new(event: SelfDescribingJson) -> Self {
        Self {
            event,
            common: Common::default(),
        }
    }
}

/// Which screen-view schema a [`ScreenView`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScreenViewSchema {
    /// `com.snowplowanalytics.mobile/screen_view/1-0-0` (the mobile trackers'; `id` is a UUID).
    #[default]
    Mobile,
    /// `com.snowplowanalytics.snowplow/screen_view/1-0-0` (name and id only).
    Legacy,
}

/// A screen view (`e=ue`, a screen_view schema).
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenView {
    name: String,
    id: String,
    schema: ScreenViewSchema,
    screen_type: Option<String>,
    previous_name: Option<String>,
    previous_id: Option<String>,
    previous_type: Option<String>,
    transition_type: Option<String>,
    common: Common,
}

impl ScreenView {
    /// A view of the screen `name` whose view id is `id` (a UUID for the mobile schema).
    pub fn new(name: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            id: id.into(),
            schema: ScreenViewSchema::Mobile,
            screen_type: None,
            previous_name: None,
            previous_id: None,
            previous_type: None,
            transition_type: None,
            common: Common::default(),
        }
    }

    /// Chooses the schema (mobile by default).
    pub fn schema(mut self, schema: ScreenViewSchema) -> Self {
        self.schema = schema;
        self
    }
}
opt_setters!(ScreenView {
    /// `type` (mobile schema only).
    screen_type: String,
    /// `previousName` (mobile schema only).
    previous_name: String,
    /// `previousId` (mobile schema only).
    previous_id: String,
    /// `previousType` (mobile schema only).
    previous_type: String,
    /// `transitionType` (mobile schema only).
    transition_type: String
});

/// A link click (`e=ue`, link_click 1-0-1).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkClick {
    target_url: String,
    element_id: Option<String>,
    element_classes: Option<Vec<String>>,
    element_target: Option<String>,
    element_content: Option<String>,
    common: Common,
}

impl LinkClick {
    /// A click on a link to `target_url`.
    pub fn new(target_url: impl Into<String>) -> Self {
        Self {
            target_url: target_url.into(),
            element_id: None,
            element_classes: None,
            element_target: None,
            element_content: None,
            common: Common::default(),
        }
    }
}
opt_setters!(LinkClick {
    /// `elementId`.
    element_id: String,
    /// `elementClasses`.
    element_classes: Classes,
    /// `elementTarget`.
    element_target: String,
    /// `elementContent`.
    element_content: String
});

/// A user timing (`e=ue`, timing 1-0-0): how long something took, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    category: String,
    variable: String,
    timing: i64,
    label: Option<String>,
    common: Common,
}

impl Timing {
    /// `variable` of `category` took `timing_ms` milliseconds.
    pub fn new(category: impl Into<String>, variable: impl Into<String>, timing_ms: i64) -> Self {
        Self {
            category: category.into(),
            variable: variable.into(),
            timing: timing_ms,
            label: None,
            common: Common::default(),
        }
    }
}
opt_setters!(Timing {
    /// `label`.
    label: String
});

/// A site search (`e=ue`, site_search 1-0-0).
#[derive(Debug, Clone, PartialEq)]
pub struct SiteSearch {
    terms: Vec<String>,
    filters: Option<Map<String, Value>>,
    total_results: Option<u64>,
    page_results: Option<u64>,
    common: Common,
}

impl SiteSearch {
    /// A search for `terms` (at least one).
    pub fn new<S: Into<String>>(terms: impl IntoIterator<Item = S>) -> Self {
        Self {
            terms: terms.into_iter().map(Into::into).collect(),
            filters: None,
            total_results: None,
            page_results: None,
            common: Common::default(),
        }
    }

    /// A search filter; values are strings or booleans in the schema.
    pub fn filter(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.filters
            .get_or_insert_with(Map::new)
            .insert(name.into(), value.into());
        self
    }
}
opt_setters!(SiteSearch {
    /// `totalResults`.
    total_results: u64,
    /// `pageResults`.
    page_results: u64
});

/// One field of a submitted form.
#[derive(Debug, Clone, PartialEq)]
pub struct FormElement {
    /// The field's name.
    pub name: String,
    /// Its value (`None`: null).
    pub value: Option<String>,
    /// `INPUT`, `TEXTAREA` or `SELECT`.
    pub node_name: String,
    /// An input's `type` attribute.
    pub element_type: Option<String>,
}

/// A form submission (`e=ue`, submit_form 1-0-0).
#[derive(Debug, Clone, PartialEq)]
pub struct SubmitForm {
    form_id: String,
    form_classes: Option<Vec<String>>,
    elements: Option<Vec<FormElement>>,
    common: Common,
}

impl SubmitForm {
    /// The form `form_id` was submitted.
    pub fn new(form_id: impl Into<String>) -> Self {
        Self {
            form_id: form_id.into(),
            form_classes: None,
            elements: None,
            common: Common::default(),
        }
    }

    /// Adds a submitted field.
    pub fn element(mut self, element: FormElement) -> Self {
        self.elements.get_or_insert_with(Vec::new).push(element);
        self
    }
}
opt_setters!(SubmitForm {
    /// `formClasses`.
    form_classes: Classes
});

/// Whether a [`FormField`] event is a change or a focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormFieldAction {
    /// change_form 1-0-0 (the element type travels as `type`).
    Change,
    /// focus_form 1-0-0 (the element type travels as `elementType`).
    Focus,
}

/// A form field changed or got focus (`e=ue`, change_form or focus_form 1-0-0).
#[derive(Debug, Clone, PartialEq)]
pub struct FormField {
    action: FormFieldAction,
    form_id: String,
    element_id: String,
    node_name: String,
    value: Option<String>,
    element_type: Option<String>,
    element_classes: Option<Vec<String>>,
    common: Common,
}

impl FormField {
    /// Field `element_id` (an `INPUT`, `TEXTAREA` or `SELECT`) of form `form_id` now holds
    /// `value` (`None`: null).
    pub fn new(
        action: FormFieldAction,
        form_id: impl Into<String>,
        element_id: impl Into<String>,
        node_name: impl Into<String>,
        value: Option<String>,
    ) -> Self {
        Self {
            action,
            form_id: form_id.into(),
            element_id: element_id.into(),
            node_name: node_name.into(),
            value,
            element_type: None,
            element_classes: None,
            common: Common::default(),
        }
    }
}
opt_setters!(FormField {
    /// An input's `type` attribute.
    element_type: String,
    /// `elementClasses`.
    element_classes: Classes
});

/// Whether a [`CartChange`] adds or removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartAction {
    /// add_to_cart 1-0-0.
    Add,
    /// remove_from_cart 1-0-0.
    Remove,
}

/// Units of a product added to or removed from a cart (`e=ue`).
#[derive(Debug, Clone, PartialEq)]
pub struct CartChange {
    action: CartAction,
    sku: String,
    quantity: f64,
    name: Option<String>,
    category: Option<String>,
    unit_price: Option<f64>,
    currency: Option<String>,
    common: Common,
}

impl CartChange {
    /// `quantity` units of `sku` were added or removed.
    pub fn new(action: CartAction, sku: impl Into<String>, quantity: f64) -> Self {
        Self {
            action,
            sku: sku.into(),
            quantity,
            name: None,
            category: None,
            unit_price: None,
            currency: None,
            common: Common::default(),
        }
    }
}
opt_setters!(CartChange {
    /// `name`.
    name: String,
    /// `category`.
    category: String,
    /// `unitPrice`.
    unit_price: f64,
    /// `currency`.
    currency: String
});

/// One line of an [`EcommerceTransaction`] (`e=ti`).
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionItem {
    sku: String,
    price: f64,
    quantity: i64,
    name: Option<String>,
    category: Option<String>,
    contexts: Vec<SelfDescribingJson>,
}

impl TransactionItem {
    /// `quantity` units of `sku` at `price` each.
    pub fn new(sku: impl Into<String>, price: f64, quantity: i64) -> Self {
        Self {
            sku: sku.into(),
            price,
            quantity,
            name: None,
            category: None,
            contexts: Vec::new(),
        }
    }

    /// Attaches an entity to this item's `ti` event.
    pub fn context(mut self, entity: SelfDescribingJson) -> Self {
        self.contexts.push(entity);
        self
    }
}
opt_setters!(TransactionItem {
    /// `ti_nm`.
    name: String,
    /// `ti_ca`.
    category: String
});

/// A legacy ecommerce transaction: one `e=tr` event, then one `e=ti` event per item.
#[derive(Debug, Clone, PartialEq)]
pub struct EcommerceTransaction {
    order_id: String,
    total_value: f64,
    affiliation: Option<String>,
    tax_value: Option<f64>,
    shipping: Option<f64>,
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
    currency: Option<String>,
    items: Vec<TransactionItem>,
    common: Common,
}

impl EcommerceTransaction {
    /// Order `order_id` worth `total_value`.
    pub fn new(order_id: impl Into<String>, total_value: f64) -> Self {
        Self {
            order_id: order_id.into(),
            total_value,
            affiliation: None,
            tax_value: None,
            shipping: None,
            city: None,
            state: None,
            country: None,
            currency: None,
            items: Vec::new(),
            common: Common::default(),
        }
    }

    /// Adds an item.
    pub fn item(mut self, item: TransactionItem) -> Self {
        self.items.push(item);
        self
    }
}
opt_setters!(EcommerceTransaction {
    /// `tr_af`.
    affiliation: String,
    /// `tr_tx`.
    tax_value: f64,
    /// `tr_sh`.
    shipping: f64,
    /// `tr_ci`.
    city: String,
    /// `tr_st`.
    state: String,
    /// `tr_co`.
    country: String,
    /// `tr_cu` (and `ti_cu` on every item).
    currency: String
});

/// Any event a [`crate::Tracker`] can track.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// See [`PageView`].
    PageView(PageView),
    /// See [`PagePing`].
    PagePing(PagePing),
    /// See [`Structured`].
    Structured(Structured),
    /// See [`SelfDescribing`].
    SelfDescribing(SelfDescribing),
    /// See [`ScreenView`].
    ScreenView(ScreenView),
    /// See [`LinkClick`].
    LinkClick(LinkClick),
    /// See [`Timing`].
    Timing(Timing),
    /// See [`SiteSearch`].
    SiteSearch(SiteSearch),
    /// See [`SubmitForm`].
    SubmitForm(SubmitForm),
    /// See [`FormField`].
    FormField(FormField),
    /// See [`CartChange`].
    CartChange(CartChange),
    /// See [`EcommerceTransaction`].
    EcommerceTransaction(EcommerceTransaction),
}

common_setters!(
    PageView,
    PagePing,
    Structured,
    SelfDescribing,
    ScreenView,
    LinkClick,
    Timing,
    SiteSearch,
    SubmitForm,
    FormField,
    CartChange,
    EcommerceTransaction
);

/// One wire event before the tracker's common fields: its parameters, its self-describing
/// event (if `e=ue`) and its own entities.
#[derive(Debug)]
pub(crate) struct Built {
    pub(crate) payload: Payload,
    pub(crate) self_describing: Option<SelfDescribingJson>,
    pub(crate) contexts: Vec<SelfDescribingJson>,
}

impl Built {
    fn params(e: &str) -> Payload {
        let mut payload = Payload::new();
        payload.set("e", e);
        payload
    }

    fn plain(payload: Payload, common: &Common) -> Self {
        Built {
            payload,
            self_describing: None,
            contexts: common.contexts.clone(),
        }
    }

    fn unstruct(schema: &str, data: Map<String, Value>, common: &Common) -> Self {
        Built {
            payload: Built::params("ue"),
            self_describing: Some(SelfDescribingJson::new(schema, Value::Object(data))),
            contexts: common.contexts.clone(),
        }
    }
}

fn url_fields(
    payload: &mut Payload,
    url: &str,
    title: &Option<String>,
    referrer: &Option<String>,
) -> Result<()> {
    non_empty("page URL", url)?;
    payload.set("url", url);
    payload.set_opt("page", title.as_deref());
    payload.set_opt("refr", referrer.as_deref());
    Ok(())
}

impl Event {
    pub(crate) fn common(&self) -> &Common {
        match self {
            Event::PageView(e) => &e.common,
            Event::PagePing(e) => &e.common,
            Event::Structured(e) => &e.common,
            Event::SelfDescribing(e) => &e.common,
            Event::ScreenView(e) => &e.common,
            Event::LinkClick(e) => &e.common,
            Event::Timing(e) => &e.common,
            Event::SiteSearch(e) => &e.common,
            Event::SubmitForm(e) => &e.common,
            Event::FormField(e) => &e.common,
            Event::CartChange(e) => &e.common,
            Event::EcommerceTransaction(e) => &e.common,
        }
    }

    /// Checks the event and builds its wire events (several for a transaction with items).
    pub(crate) fn build(&self) -> Result<Vec<Built>> {
        let common = self.common();
        for entity in &common.contexts {
            entity.validate("entity")?;
        }
        let built = match self {
            Event::PageView(e) => {
                let mut p = Built::params("pv");
                url_fields(&mut p, &e.url, &e.title, &e.referrer)?;
                vec![Built::plain(p, common)]
            }
            Event::PagePing(e) => {
                let mut p = Built::params("pp");
                url_fields(&mut p, &e.url, &e.title, &e.referrer)?;
                let (min_x, max_x, min_y, max_y) = e.offsets;
                p.set("pp_mix", min_x.to_string());
                p.set("pp_max", max_x.to_string());
                p.set("pp_miy", min_y.to_string());
                p.set("pp_may", max_y.to_string());
                vec![Built::plain(p, common)]
            }
            Event::Structured(e) => {
                non_empty("structured event category", &e.category)?;
                non_empty("structured event action", &e.action)?;
                let mut p = Built::params("se");
                p.set("se_ca", e.category.as_str());
                p.set("se_ac", e.action.as_str());
                p.set_opt("se_la", e.label.as_deref());
                p.set_opt("se_pr", e.property.as_deref());
                if let Some(value) = e.value {
                    finite("structured event value", value)?;
                    p.set("se_va", decimal(value));
                }
                vec![Built::plain(p, common)]
            }
            Event::SelfDescribing(e) => {
                e.event.validate("self-describing event")?;
                vec![Built {
                    payload: Built::params("ue"),
                    self_describing: Some(e.event.clone()),
                    contexts: common.contexts.clone(),
                }]
            }
            Event::ScreenView(e) => vec![screen_view(e)?],
            Event::LinkClick(e) => {
                non_empty("link target URL", &e.target_url)?;
                let mut d = Map::new();
                d.insert("targetUrl".into(), e.target_url.clone().into());
                insert_opt(&mut d, "elementId", e.element_id.clone().map(Value::from));
                insert_opt(&mut d, "elementClasses", strings(&e.element_classes));
                insert_opt(&mut d, "elementTarget", e.element_target.clone().map(Value::from));
                insert_opt(
                    &mut d,
                    "elementContent",
                    e.element_content.clone().map(Value::from),
                );
                vec![Built::unstruct(
                    "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
                    d,
                    common,
                )]
            }
            Event::Timing(e) => {
                non_empty("timing category", &e.category)?;
                non_empty("timing variable", &e.variable)?;
                let mut d = Map::new();
                d.insert("category".into(), e.category.clone().into());
                d.insert("variable".into(), e.variable.clone().into());
                d.insert("timing".into(), e.timing.into());
                insert_opt(&mut d, "label", e.label.clone().map(Value::from));
                vec![Built::unstruct(
                    "iglu:com.snowplowanalytics.snowplow/timing/jsonschema/1-0-0",
                    d,
                    common,
                )]
            }
            Event::SiteSearch(e) => {
                if e.terms.is_empty() {
                    return Err(Error::InvalidEvent(
                        "a site search needs at least one term".into(),
                    ));
                }
                let mut d = Map::new();
                d.insert("terms".into(), e.terms.clone().into());
                if let Some(filters) = &e.filters {
                    if let Some((k, _)) = filters.iter().find(|(_, v)| !(v.is_string() || v.is_boolean())) {
                        return Err(Error::InvalidEvent(format!(
                            "site search filter {k:?} must be a string or a boolean"
                        )));
                    }
                    d.insert("filters".into(), Value::Object(filters.clone()));
                }
                insert_opt(&mut d, "totalResults", e.total_results.map(Value::from));
                insert_opt(&mut d, "pageResults", e.page_results.map(Value::from));
                vec![Built::unstruct(
                    "iglu:com.snowplowanalytics.snowplow/site_search/jsonschema/1-0-0",
                    d,
                    common,
                )]
            }
            Event::SubmitForm(e) => {
                let mut d = Map::new();
                d.insert("formId".into(), e.form_id.clone().into());
                insert_opt(&mut d, "formClasses", strings(&e.form_classes));
                if let Some(elements) = &e.elements {
                    let list: Vec<Value> = elements
                        .iter()
                        .map(|el| {
                            let mut m = Map::new();
                            m.insert("name".into(), el.name.clone().into());
                            m.insert("value".into(), el.value.clone().map_or(Value::Null, Value::from));
                            m.insert("nodeName".into(), el.node_name.clone().into());
                            insert_opt(&mut m, "type", el.element_type.clone().map(Value::from));
                            Value::Object(m)
                        })
                        .collect();
                    d.insert("elements".into(), list.into());
                }
                vec![Built::unstruct(
                    "iglu:com.snowplowanalytics.snowplow/submit_form/jsonschema/1-0-0",
                    d,
                    common,
                )]
            }
            Event::FormField(e) => {
                let (schema, type_key) = match e.action {
                    FormFieldAction::Change => (
                        "iglu:com.snowplowanalytics.snowplow/change_form/jsonschema/1-0-0",
                        "type",
                    ),
                    FormFieldAction::Focus => (
                        "iglu:com.snowplowanalytics.snowplow/focus_form/jsonschema/1-0-0",
                        "elementType",
                    ),
                };
                let mut d = Map::new();
                d.insert("formId".into(), e.form_id.clone().into());
                d.insert("elementId".into(), e.element_id.clone().into());
                d.insert("nodeName".into(), e.node_name.clone().into());
                d.insert("value".into(), e.value.clone().map_or(Value::Null, Value::from));
                insert_opt(&mut d, type_key, e.element_type.clone().map(Value::from));
                insert_opt(&mut d, "elementClasses", strings(&e.element_classes));
                vec![Built::unstruct(schema, d, common)]
            }
            Event::CartChange(e) => {
                non_empty("cart SKU", &e.sku)?;
                finite("cart quantity", e.quantity)?;
                let schema = match e.action {
                    CartAction::Add => "iglu:com.snowplowanalytics.snowplow/add_to_cart/jsonschema/1-0-0",
                    CartAction::Remove => {
                        "iglu:com.snowplowanalytics.snowplow/remove_from_cart/jsonschema/1-0-0"
                    }
                };
                let mut d = Map::new();
                d.insert("sku".into(), e.sku.clone().into());
                d.insert("quantity".into(), number(e.quantity));
                insert_opt(&mut d, "name", e.name.clone().map(Value::from));
                insert_opt(&mut d, "category", e.category.clone().map(Value::from));
                if let Some(price) = e.unit_price {
                    finite("cart unit price", price)?;
                    d.insert("unitPrice".into(), number(price));
                }
                insert_opt(&mut d, "currency", e.currency.clone().map(Value::from));
                vec![Built::unstruct(schema, d, common)]
            }
            Event::EcommerceTransaction(e) => transaction(e)?,
        };
        Ok(built)
    }
}

fn screen_view(e: &ScreenView) -> Result<Built> {
    non_empty("screen name", &e.name)?;
    non_empty("screen view id", &e.id)?;
    let mut d = Map::new();
    d.insert("name".into(), e.name.clone().into());
    d.insert("id".into(), e.id.clone().into());
    let schema = match e.schema {
        ScreenViewSchema::Legacy => "iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0",
        ScreenViewSchema::Mobile => {
            if uuid::Uuid::try_parse(&e.id).is_err() {
                return Err(Error::InvalidEvent(format!(
                    "a mobile screen view's id must be a UUID, not {:?}",
                    e.id
                )));
            }
            insert_opt(&mut d, "type", e.screen_type.clone().map(Value::from));
            insert_opt(&mut d, "previousName", e.previous_name.clone().map(Value::from));
            insert_opt(&mut d, "previousId", e.previous_id.clone().map(Value::from));
            insert_opt(&mut d, "previousType", e.previous_type.clone().map(Value::from));
            insert_opt(
                &mut d,
                "transitionType",
                e.transition_type.clone().map(Value::from),
            );
            "iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0"
        }
    };
    Ok(Built::unstruct(schema, d, &e.common))
}

fn transaction(e: &EcommerceTransaction) -> Result<Vec<Built>> {
    non_empty("order id", &e.order_id)?;
    finite("transaction total", e.total_value)?;
    let mut tr = Built::params("tr");
    tr.set("tr_id", e.order_id.as_str());
    tr.set("tr_tt", decimal(e.total_value));
    tr.set_opt("tr_af", e.affiliation.as_deref());
    for (key, value) in [("tr_tx", e.tax_value), ("tr_sh", e.shipping)] {
        if let Some(value) = value {
            finite(key, value)?;
            tr.set(key, decimal(value));
        }
    }
    tr.set_opt("tr_ci", e.city.as_deref());
    tr.set_opt("tr_st", e.state.as_deref());
    tr.set_opt("tr_co", e.country.as_deref());
    tr.set_opt("tr_cu", e.currency.as_deref());
    let mut out = vec![Built::plain(tr, &e.common)];
    for item in &e.items {
        non_empty("transaction item SKU", &item.sku)?;
        finite("transaction item price", item.price)?;
        for entity in &item.contexts {
            entity.validate("entity")?;
        }
        let mut ti = Built::params("ti");
        ti.set("ti_id", e.order_id.as_str());
        ti.set("ti_sk", item.sku.as_str());
        ti.set_opt("ti_nm", item.name.as_deref());
        ti.set_opt("ti_ca", item.category.as_deref());
        ti.set("ti_pr", decimal(item.price));
        ti.set("ti_qu", item.quantity.to_string());
        ti.set_opt("ti_cu", e.currency.as_deref());
        out.push(Built {
            payload: ti,
            self_describing: None,
            contexts: item.contexts.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_print_shortest_round_trip() {
        assert_eq!(decimal(1.5), "1.5");
        assert_eq!(decimal(3.0), "3");
        assert_eq!(decimal(0.25), "0.25");
        assert_eq!(decimal(10.25), "10.25");
    }

    #[test]
    fn mobile_screen_view_needs_a_uuid_id() {
        let err = Event::from(ScreenView::new("Home", "not-a-uuid"))
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidEvent(_)), "{err}");
        let ok = Event::from(ScreenView::new("Home", "not-a-uuid").schema(ScreenViewSchema::Legacy));
        assert!(ok.build().is_ok());
    }

    #[test]
    fn site_search_needs_a_term() {
        let none: [&str; 0] = [];
        assert!(Event::from(SiteSearch::new(none)).build().is_err());
    }

    #[test]
    fn transaction_items_follow_the_transaction() {
        let tx = EcommerceTransaction::new("o-1", 3.0)
            .currency("EUR")
            .item(TransactionItem::new("a", 1.0, 1))
            .item(TransactionItem::new("b", 2.0, 1));
        let built = Event::from(tx).build().unwrap();
        let kinds: Vec<_> = built
            .iter()
            .map(|b| b.payload.get("e").unwrap().to_owned())
            .collect();
        assert_eq!(kinds, ["tr", "ti", "ti"]);
        assert_eq!(built[2].payload.get("ti_sk"), Some("b"));
        assert_eq!(built[2].payload.get("ti_cu"), Some("EUR"));
        assert_eq!(built[0].payload.get("tr_tt"), Some("3"));
    }

    #[test]
    fn entities_must_name_an_iglu_schema() {
        let bad = PageView::new("https://a.example/").context(SelfDescribingJson::new("x", json!({})));
        assert!(Event::from(bad).build().is_err());
    }
}
