package tracker

import (
	"regexp"
	"strconv"
)

// Event is one of the event types of this package ([PageView], [PagePing], [Structured],
// [SelfDescribing], [ScreenView], [LinkClick], [SubmitForm], [ChangeForm], [FocusForm],
// [SiteSearch], [Timing], [EcommerceTransaction], [AddToCart], [RemoveFromCart]). Entities,
// a true timestamp and a per-event subject are given with the track call ([TrackOption]).
type Event interface {
	// build validates the event and returns its own wire parameters, one entry per wire
	// event (a transaction gives one plus one per item).
	build() ([]wireEvent, error)
}

// wireEvent is the event-specific part of one wire event: plain parameters and, for e=ue,
// the self-describing event that goes in ue_pr / ue_px.
type wireEvent struct {
	params Payload
	ue     *SelfDescribingJSON
}

// Schemas of the built-in self-describing events.
const (
	MobileScreenViewSchema = "iglu:com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0"
	LegacyScreenViewSchema = "iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0"
	LinkClickSchema        = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"
	SubmitFormSchema       = "iglu:com.snowplowanalytics.snowplow/submit_form/jsonschema/1-0-0"
	ChangeFormSchema       = "iglu:com.snowplowanalytics.snowplow/change_form/jsonschema/1-0-0"
	FocusFormSchema        = "iglu:com.snowplowanalytics.snowplow/focus_form/jsonschema/1-0-0"
	SiteSearchSchema       = "iglu:com.snowplowanalytics.snowplow/site_search/jsonschema/1-0-0"
	TimingSchema           = "iglu:com.snowplowanalytics.snowplow/timing/jsonschema/1-0-0"
	AddToCartSchema        = "iglu:com.snowplowanalytics.snowplow/add_to_cart/jsonschema/1-0-0"
	RemoveFromCartSchema   = "iglu:com.snowplowanalytics.snowplow/remove_from_cart/jsonschema/1-0-0"
)

// Float returns a pointer to v, for optional number fields.
func Float(v float64) *float64 { return &v }

// Int returns a pointer to v, for optional integer fields.
func Int(v int) *int { return &v }

// String returns a pointer to s, for string fields where null and "" differ.
func String(s string) *string { return &s }

func one(p Payload) []wireEvent { return []wireEvent{{params: p}} }

func ue(schema string, data map[string]any) []wireEvent {
	return []wireEvent{{params: Payload{"e": "ue"}, ue: &SelfDescribingJSON{Schema: schema, Data: data}}}
}

func putText(p Payload, k, v string) {
	if v != "" {
		p[k] = v
	}
}

func putNumber(p Payload, k string, v *float64) {
	if v != nil {
		p[k] = numberText(*v)
	}
}

// checkTexts checks name, value pairs (no map: this runs on every track call).
func checkTexts(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := checkText(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func checkOptNumber(what string, v *float64) error {
	if v == nil {
		return nil
	}
	return checkNumber(what, *v)
}

// PageView is e=pv: a web page was viewed.
type PageView struct {
	URL      string // url (required)
	Title    string // page
	Referrer string // refr
}

func (e PageView) build() ([]wireEvent, error) {
	if err := checkRequired("PageView.URL", e.URL); err != nil {
		return nil, err
	}
	if err := checkTexts("PageView.Title", e.Title, "PageView.Referrer", e.Referrer); err != nil {
		return nil, err
	}
	p := Payload{"e": "pv", "url": e.URL}
	putText(p, "page", e.Title)
	putText(p, "refr", e.Referrer)
	return one(p), nil
}

// PagePing is e=pp: the page is still in view; the offsets are the scroll range seen since
// the last ping (0 is a real offset and is sent).
type PagePing struct {
	URL                    string // url (required)
	Title                  string
	Referrer               string
	MinX, MaxX, MinY, MaxY int // pp_mix, pp_max, pp_miy, pp_may
}

func (e PagePing) build() ([]wireEvent, error) {
	if err := checkRequired("PagePing.URL", e.URL); err != nil {
		return nil, err
	}
	if err := checkTexts("PagePing.Title", e.Title, "PagePing.Referrer", e.Referrer); err != nil {
		return nil, err
	}
	p := Payload{"e": "pp", "url": e.URL,
		"pp_mix": strconv.Itoa(e.MinX), "pp_max": strconv.Itoa(e.MaxX),
		"pp_miy": strconv.Itoa(e.MinY), "pp_may": strconv.Itoa(e.MaxY)}
	putText(p, "page", e.Title)
	putText(p, "refr", e.Referrer)
	return one(p), nil
}

// Structured is e=se: a category/action event in the Google Analytics style.
type Structured struct {
	Category string   // se_ca (required)
	Action   string   // se_ac (required)
	Label    string   // se_la
	Property string   // se_pr
	Value    *float64 // se_va
}

func (e Structured) build() ([]wireEvent, error) {
	if err := checkRequired("Structured.Category", e.Category); err != nil {
		return nil, err
	}
	if err := checkRequired("Structured.Action", e.Action); err != nil {
		return nil, err
	}
	if err := checkTexts("Structured.Label", e.Label, "Structured.Property", e.Property); err != nil {
		return nil, err
	}
	if err := checkOptNumber("Structured.Value", e.Value); err != nil {
		return nil, err
	}
	p := Payload{"e": "se", "se_ca": e.Category, "se_ac": e.Action}
	putText(p, "se_la", e.Label)
	putText(p, "se_pr", e.Property)
	putNumber(p, "se_va", e.Value)
	return one(p), nil
}

// SelfDescribing is e=ue with any schema: the event is a self-describing JSON.
type SelfDescribing struct {
	Event SelfDescribingJSON
}

func (e SelfDescribing) build() ([]wireEvent, error) {
	if err := e.Event.validate("SelfDescribing.Event"); err != nil {
		return nil, err
	}
	sdj := e.Event
	return []wireEvent{{params: Payload{"e": "ue"}, ue: &sdj}}, nil
}

// ScreenVariant picks the screen view schema.
type ScreenVariant int

const (
	// ScreenMobile is com.snowplowanalytics.mobile/screen_view/1-0-0 (the default): the id
	// is a UUID and the other fields are available.
	ScreenMobile ScreenVariant = iota
	// ScreenLegacy is com.snowplowanalytics.snowplow/screen_view/1-0-0: name and id only.
	ScreenLegacy
)

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ScreenView is e=ue with a screen view schema (see [ScreenVariant]).
type ScreenView struct {
	Variant        ScreenVariant
	Name           string // required
	ID             string // required for ScreenMobile, a UUID
	Type           string // mobile only
	PreviousName   string // mobile only
	PreviousID     string // mobile only, a UUID
	PreviousType   string // mobile only
	TransitionType string // mobile only
}

func (e ScreenView) build() ([]wireEvent, error) {
	if err := checkRequired("ScreenView.Name", e.Name); err != nil {
		return nil, err
	}
	if err := checkTexts("ScreenView.ID", e.ID, "ScreenView.Type", e.Type,
		"ScreenView.PreviousName", e.PreviousName, "ScreenView.PreviousType", e.PreviousType,
		"ScreenView.TransitionType", e.TransitionType); err != nil {
		return nil, err
	}
	switch e.Variant {
	case ScreenLegacy:
		if e.Type != "" || e.PreviousName != "" || e.PreviousID != "" || e.PreviousType != "" || e.TransitionType != "" {
			return nil, invalid("ScreenView: the legacy schema has only Name and ID")
		}
		data := map[string]any{"name": e.Name}
		if e.ID != "" {
			data["id"] = e.ID
		}
		return ue(LegacyScreenViewSchema, data), nil
	case ScreenMobile:
		if !uuidPattern.MatchString(e.ID) {
			return nil, invalid("ScreenView.ID must be a UUID for a mobile screen view, got %q", e.ID)
		}
		if e.PreviousID != "" && !uuidPattern.MatchString(e.PreviousID) {
			return nil, invalid("ScreenView.PreviousID must be a UUID, got %q", e.PreviousID)
		}
		data := map[string]any{"name": e.Name, "id": e.ID}
		for k, v := range map[string]string{"type": e.Type, "previousName": e.PreviousName,
			"previousId": e.PreviousID, "previousType": e.PreviousType, "transitionType": e.TransitionType} {
			if v != "" {
				data[k] = v
			}
		}
		return ue(MobileScreenViewSchema, data), nil
	default:
		return nil, invalid("ScreenView.Variant %d is unknown", int(e.Variant))
	}
}

// LinkClick is e=ue link_click/1-0-1: a link was followed.
type LinkClick struct {
	TargetURL      string // required
	ElementID      string
	ElementClasses []string
	ElementTarget  string
	ElementContent string
}

func (e LinkClick) build() ([]wireEvent, error) {
	if err := checkRequired("LinkClick.TargetURL", e.TargetURL); err != nil {
		return nil, err
	}
	if err := checkTexts("LinkClick.ElementID", e.ElementID,
		"LinkClick.ElementTarget", e.ElementTarget, "LinkClick.ElementContent", e.ElementContent); err != nil {
		return nil, err
	}
	if err := checkList("LinkClick.ElementClasses", e.ElementClasses); err != nil {
		return nil, err
	}
	data := map[string]any{"targetUrl": e.TargetURL}
	for k, v := range map[string]string{"elementId": e.ElementID, "elementTarget": e.ElementTarget,
		"elementContent": e.ElementContent} {
		if v != "" {
			data[k] = v
		}
	}
	if e.ElementClasses != nil {
		data["elementClasses"] = e.ElementClasses
	}
	return ue(LinkClickSchema, data), nil
}

func checkList(what string, values []string) error {
	for _, v := range values {
		if err := checkText(what, v); err != nil {
			return err
		}
	}
	return nil
}

var nodeNames = map[string]bool{"INPUT": true, "TEXTAREA": true, "SELECT": true}

var inputTypes = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range []string{"button", "checkbox", "color", "date", "datetime", "datetime-local",
		"email", "file", "hidden", "image", "month", "number", "password", "radio", "range", "reset",
		"search", "submit", "tel", "text", "time", "url", "week"} {
		m[t] = true
	}
	return m
}()

func checkNode(what, node, inputType string) error {
	if !nodeNames[node] {
		return invalid("%s.NodeName must be INPUT, TEXTAREA or SELECT, got %q", what, node)
	}
	if inputType != "" && !inputTypes[inputType] {
		return invalid("%s type %q is not an HTML input type", what, inputType)
	}
	return nil
}

func optString(v *string) any {
	if v == nil {
		return nil
	}
	return *v
}

// FormElement is one field of a submitted form.
type FormElement struct {
	Name     string
	Value    *string // nil is sent as null
	NodeName string  // INPUT, TEXTAREA or SELECT
	Type     string  // the input type, e.g. "email" (optional)
}

// SubmitForm is e=ue submit_form/1-0-0: a form was submitted.
type SubmitForm struct {
	FormID      string
	FormClasses []string
	Elements    []FormElement
}

func (e SubmitForm) build() ([]wireEvent, error) {
	if err := checkText("SubmitForm.FormID", e.FormID); err != nil {
		return nil, err
	}
	if err := checkList("SubmitForm.FormClasses", e.FormClasses); err != nil {
		return nil, err
	}
	data := map[string]any{"formId": e.FormID}
	if e.FormClasses != nil {
		data["formClasses"] = e.FormClasses
	}
	if e.Elements != nil {
		elements := make([]map[string]any, 0, len(e.Elements))
		for _, el := range e.Elements {
			if err := checkNode("SubmitForm.Elements[]", el.NodeName, el.Type); err != nil {
				return nil, err
			}
			if err := checkText("SubmitForm.Elements[].Name", el.Name); err != nil {
				return nil, err
			}
			if el.Value != nil {
				if err := checkText("SubmitForm.Elements[].Value", *el.Value); err != nil {
					return nil, err
				}
			}
			m := map[string]any{"name": el.Name, "value": optString(el.Value), "nodeName": el.NodeName}
			if el.Type != "" {
				m["type"] = el.Type
			}
			elements = append(elements, m)
		}
		data["elements"] = elements
	}
	return ue(SubmitFormSchema, data), nil
}

// FormField is what change_form and focus_form share.
type FormField struct {
	FormID         string
	ElementID      string
	NodeName       string  // INPUT, TEXTAREA or SELECT
	Value          *string // nil is sent as null
	ElementType    string  // the input type (optional)
	ElementClasses []string
}

func (f FormField) data(what, typeKey string) (map[string]any, error) {
	if err := checkTexts(what+".FormID", f.FormID, what+".ElementID", f.ElementID); err != nil {
		return nil, err
	}
	if err := checkNode(what, f.NodeName, f.ElementType); err != nil {
		return nil, err
	}
	if f.Value != nil {
		if err := checkText(what+".Value", *f.Value); err != nil {
			return nil, err
		}
	}
	if err := checkList(what+".ElementClasses", f.ElementClasses); err != nil {
		return nil, err
	}
	data := map[string]any{"formId": f.FormID, "elementId": f.ElementID, "nodeName": f.NodeName,
		"value": optString(f.Value)}
	if f.ElementType != "" {
		data[typeKey] = f.ElementType
	}
	if f.ElementClasses != nil {
		data["elementClasses"] = f.ElementClasses
	}
	return data, nil
}

// ChangeForm is e=ue change_form/1-0-0: a form field's value changed (the input type is
// sent as "type").
type ChangeForm FormField

func (e ChangeForm) build() ([]wireEvent, error) {
	data, err := FormField(e).data("ChangeForm", "type")
	if err != nil {
		return nil, err
	}
	return ue(ChangeFormSchema, data), nil
}

// FocusForm is e=ue focus_form/1-0-0: a form field got focus (the input type is sent as
// "elementType").
type FocusForm FormField

func (e FocusForm) build() ([]wireEvent, error) {
	data, err := FormField(e).data("FocusForm", "elementType")
	if err != nil {
		return nil, err
	}
	return ue(FocusFormSchema, data), nil
}

// SiteSearch is e=ue site_search/1-0-0: an internal site search.
type SiteSearch struct {
	Terms        []string       // at least one
	Filters      map[string]any // values: string or bool
	TotalResults *int
	PageResults  *int
}

func (e SiteSearch) build() ([]wireEvent, error) {
	if len(e.Terms) == 0 {
		return nil, invalid("SiteSearch.Terms needs at least one term")
	}
	if err := checkList("SiteSearch.Terms", e.Terms); err != nil {
		return nil, err
	}
	data := map[string]any{"terms": e.Terms}
	if e.Filters != nil {
		for k, v := range e.Filters {
			switch x := v.(type) {
			case bool:
			case string:
				if err := checkText("SiteSearch.Filters", x); err != nil {
					return nil, err
				}
			default:
				return nil, invalid("SiteSearch.Filters[%q] must be a string or a bool", k)
			}
		}
		data["filters"] = e.Filters
	}
	for k, v := range map[string]*int{"totalResults": e.TotalResults, "pageResults": e.PageResults} {
		if v == nil {
			continue
		}
		if *v < 0 || *v > 2147483647 {
			return nil, invalid("SiteSearch.%s must be within 0..2147483647", k)
		}
		data[k] = *v
	}
	return ue(SiteSearchSchema, data), nil
}

// Timing is e=ue timing/1-0-0: a user timing, milliseconds by convention.
type Timing struct {
	Category string
	Variable string
	Timing   float64
	Label    string
}

func (e Timing) build() ([]wireEvent, error) {
	if err := checkTexts("Timing.Category", e.Category,
		"Timing.Variable", e.Variable, "Timing.Label", e.Label); err != nil {
		return nil, err
	}
	if err := checkNumber("Timing.Timing", e.Timing); err != nil {
		return nil, err
	}
	data := map[string]any{"category": e.Category, "variable": e.Variable, "timing": e.Timing}
	if e.Label != "" {
		data["label"] = e.Label
	}
	return ue(TimingSchema, data), nil
}

// TransactionItem is one line of an [EcommerceTransaction], sent as its own e=ti event.
type TransactionItem struct {
	SKU      string // ti_sk (required)
	Price    float64
	Quantity int
	Name     string
	Category string
}

// EcommerceTransaction is the legacy ecommerce transaction: one e=tr event, then one e=ti
// event per item, each with the transaction's entities and true timestamp.
type EcommerceTransaction struct {
	OrderID     string  // tr_id (required)
	TotalValue  float64 // tr_tt
	Affiliation string
	TaxValue    *float64
	Shipping    *float64
	City        string
	State       string
	Country     string
	Currency    string
	Items       []TransactionItem
}

func (e EcommerceTransaction) build() ([]wireEvent, error) {
	if err := checkRequired("EcommerceTransaction.OrderID", e.OrderID); err != nil {
		return nil, err
	}
	if err := checkTexts("Affiliation", e.Affiliation, "City", e.City,
		"State", e.State, "Country", e.Country, "Currency", e.Currency); err != nil {
		return nil, err
	}
	if err := checkNumber("EcommerceTransaction.TotalValue", e.TotalValue); err != nil {
		return nil, err
	}
	if err := checkOptNumber("EcommerceTransaction.TaxValue", e.TaxValue); err != nil {
		return nil, err
	}
	if err := checkOptNumber("EcommerceTransaction.Shipping", e.Shipping); err != nil {
		return nil, err
	}
	p := Payload{"e": "tr", "tr_id": e.OrderID, "tr_tt": numberText(e.TotalValue)}
	putText(p, "tr_af", e.Affiliation)
	putNumber(p, "tr_tx", e.TaxValue)
	putNumber(p, "tr_sh", e.Shipping)
	putText(p, "tr_ci", e.City)
	putText(p, "tr_st", e.State)
	putText(p, "tr_co", e.Country)
	putText(p, "tr_cu", e.Currency)
	out := []wireEvent{{params: p}}
	for i, item := range e.Items {
		if err := checkRequired("EcommerceTransaction.Items["+strconv.Itoa(i)+"].SKU", item.SKU); err != nil {
			return nil, err
		}
		if err := checkTexts("Items[].Name", item.Name, "Items[].Category", item.Category); err != nil {
			return nil, err
		}
		if err := checkNumber("Items[].Price", item.Price); err != nil {
			return nil, err
		}
		ip := Payload{"e": "ti", "ti_id": e.OrderID, "ti_sk": item.SKU,
			"ti_pr": numberText(item.Price), "ti_qu": strconv.Itoa(item.Quantity)}
		putText(ip, "ti_nm", item.Name)
		putText(ip, "ti_ca", item.Category)
		putText(ip, "ti_cu", e.Currency)
		out = append(out, wireEvent{params: ip})
	}
	return out, nil
}

// CartItem is what add_to_cart and remove_from_cart share.
type CartItem struct {
	SKU       string // required
	Quantity  float64
	Name      string
	Category  string
	UnitPrice *float64
	Currency  string
}

func (c CartItem) data(what string) (map[string]any, error) {
	if err := checkRequired(what+".SKU", c.SKU); err != nil {
		return nil, err
	}
	if err := checkTexts(what+".Name", c.Name, what+".Category", c.Category,
		what+".Currency", c.Currency); err != nil {
		return nil, err
	}
	if err := checkNumber(what+".Quantity", c.Quantity); err != nil {
		return nil, err
	}
	if err := checkOptNumber(what+".UnitPrice", c.UnitPrice); err != nil {
		return nil, err
	}
	data := map[string]any{"sku": c.SKU, "quantity": c.Quantity}
	for k, v := range map[string]string{"name": c.Name, "category": c.Category, "currency": c.Currency} {
		if v != "" {
			data[k] = v
		}
	}
	if c.UnitPrice != nil {
		data["unitPrice"] = *c.UnitPrice
	}
	return data, nil
}

// AddToCart is e=ue add_to_cart/1-0-0.
type AddToCart CartItem

func (e AddToCart) build() ([]wireEvent, error) {
	data, err := CartItem(e).data("AddToCart")
	if err != nil {
		return nil, err
	}
	return ue(AddToCartSchema, data), nil
}

// RemoveFromCart is e=ue remove_from_cart/1-0-0.
type RemoveFromCart CartItem

func (e RemoveFromCart) build() ([]wireEvent, error) {
	data, err := CartItem(e).data("RemoveFromCart")
	if err != nil {
		return nil, err
	}
	return ue(RemoveFromCartSchema, data), nil
}
