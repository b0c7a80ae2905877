// Package neutral reads the language-neutral event and subject shapes of the test vectors
// and the driver protocol (spec/vectors/FORMAT.md) into this module's tracker types. The
// conformance driver and the wire-vector tests share it.
package neutral

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"plowline.dev/trackers/go/tracker"
)

// DecodeError is a neutral event or subject that does not fit its shape (an unknown key, a
// wrong type); the driver answers it like an event the tracker rejects.
type DecodeError struct{ Err error }

func (d DecodeError) Error() string { return d.Err.Error() }

func (d DecodeError) Unwrap() error { return d.Err }

// UnsupportedError is an event type this package does not know.
type UnsupportedError struct {
	Type       string
	Capability string // the driver capability that names it
}

func (u UnsupportedError) Error() string {
	return fmt.Sprintf("event type %q is not supported", u.Type)
}

// Strict decodes raw into v, refusing unknown keys and keeping numbers as json.Number in
// untyped values (so they are re-encoded exactly as given).
func Strict(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	return dec.Decode(v)
}

func decodeInto(what string, raw json.RawMessage, v any) error {
	if err := Strict(raw, v); err != nil {
		return DecodeError{fmt.Errorf("%s: %w", what, err)}
	}
	return nil
}

type sdj struct {
	Schema string `json:"schema"`
	Data   any    `json:"data"`
}

func (s sdj) typed() tracker.SelfDescribingJSON { return tracker.SDJ(s.Schema, s.Data) }

// common are the keys every neutral event takes (spec/vectors/FORMAT.md).
type common struct {
	Type            string `json:"type"`
	Contexts        []sdj  `json:"contexts"`
	TrueTimestampMs *int64 `json:"true_timestamp_ms"`
}

func (c common) options() []tracker.TrackOption {
	var opts []tracker.TrackOption
	if c.Contexts != nil {
		entities := make([]tracker.SelfDescribingJSON, len(c.Contexts))
		for i, e := range c.Contexts {
			entities[i] = e.typed()
		}
		opts = append(opts, tracker.WithContexts(entities...))
	}
	if c.TrueTimestampMs != nil {
		opts = append(opts, tracker.WithTrueTimestamp(time.UnixMilli(*c.TrueTimestampMs)))
	}
	return opts
}

type formField struct {
	common
	FormID         string   `json:"form_id"`
	ElementID      string   `json:"element_id"`
	NodeName       string   `json:"node_name"`
	Value          *string  `json:"value"`
	ElementType    string   `json:"element_type"`
	ElementClasses []string `json:"element_classes"`
}

func (f formField) field() tracker.FormField {
	return tracker.FormField{FormID: f.FormID, ElementID: f.ElementID, NodeName: f.NodeName,
		Value: f.Value, ElementType: f.ElementType, ElementClasses: f.ElementClasses}
}

type cartItem struct {
	common
	SKU       string   `json:"sku"`
	Quantity  float64  `json:"quantity"`
	Name      string   `json:"name"`
	Category  string   `json:"category"`
	UnitPrice *float64 `json:"unit_price"`
	Currency  string   `json:"currency"`
}

func (c cartItem) item() tracker.CartItem {
	return tracker.CartItem{SKU: c.SKU, Quantity: c.Quantity, Name: c.Name, Category: c.Category,
		UnitPrice: c.UnitPrice, Currency: c.Currency}
}

// Event turns {"type": ..., <keys>} into a tracker event and its track options.
func Event(raw json.RawMessage) (tracker.Event, []tracker.TrackOption, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, nil, DecodeError{fmt.Errorf("event: %w", err)}
	}
	kind := head.Type
	switch kind {
	case "page_view":
		var v struct {
			common
			PageURL   string `json:"page_url"`
			PageTitle string `json:"page_title"`
			Referrer  string `json:"referrer"`
		}
		err := decodeInto(kind, raw, &v)
		return tracker.PageView{URL: v.PageURL, Title: v.PageTitle, Referrer: v.Referrer}, v.options(), err
	case "page_ping":
		var v struct {
			common
			PageURL   string `json:"page_url"`
			PageTitle string `json:"page_title"`
			Referrer  string `json:"referrer"`
			MinX      int    `json:"min_x"`
			MaxX      int    `json:"max_x"`
			MinY      int    `json:"min_y"`
			MaxY      int    `json:"max_y"`
		}
		err := decodeInto(kind, raw, &v)
		return tracker.PagePing{URL: v.PageURL, Title: v.PageTitle, Referrer: v.Referrer,
			MinX: v.MinX, MaxX: v.MaxX, MinY: v.MinY, MaxY: v.MaxY}, v.options(), err
	case "structured":
		var v struct {
			common
			Category string   `json:"category"`
			Action   string   `json:"action"`
			Label    string   `json:"label"`
			Property string   `json:"property"`
			Value    *float64 `json:"value"`
		}
		err := decodeInto(kind, raw, &v)
		return tracker.Structured{Category: v.Category, Action: v.Action, Label: v.Label,
			Property: v.Property, Value: v.Value}, v.options(), err
	case "self_describing":
		var v struct {
			common
			Event sdj `json:"event"`
		}
		err := decodeInto(kind, raw, &v)
		return tracker.SelfDescribing{Event: v.Event.typed()}, v.options(), err
	case "screen_view":
		var v struct {
			common
			Name         string `json:"name"`
			ID           string `json:"id"`
			Variant      string `json:"variant"`
			ScreenType   string `json:"screen_type"`
			PreviousName string `json:"previous_name"`
		}
		if err := decodeInto(kind, raw, &v); err != nil {
			return nil, nil, err
		}
		variant := tracker.ScreenMobile
		switch v.Variant {
		case "", "mobile":
		case "legacy":
			variant = tracker.ScreenLegacy
		default:
			return nil, nil, DecodeError{fmt.Errorf("screen_view: unknown variant %q", v.Variant)}
		}
		return tracker.ScreenView{Variant: variant, Name: v.Name, ID: v.ID, Type: v.ScreenType,
			PreviousName: v.PreviousName}, v.options(), nil
	case "link_click":
		var v struct {
			common
			TargetURL      string   `json:"target_url"`
			ElementID      string   `json:"element_id"`
			ElementClasses []string `json:"element_classes"`
			ElementTarget  string   `json:"element_target"`
			ElementContent string   `json:"element_content"`
		}
		err := decodeInto(kind, raw, &v)
		return tracker.LinkClick{TargetURL: v.TargetURL, ElementID: v.ElementID,
			ElementClasses: v.ElementClasses, ElementTarget: v.ElementTarget,
			ElementContent: v.ElementContent}, v.options(), err
	case "submit_form":
		var v struct {
			common
			FormID      string   `json:"form_id"`
			FormClasses []string `json:"form_classes"`
			Elements    []struct {
				Name     string  `json:"name"`
				Value    *string `json:"value"`
				NodeName string  `json:"node_name"`
				Type     string  `json:"type"`
			} `json:"elements"`
		}
		if err := decodeInto(kind, raw, &v); err != nil {
			return nil, nil, err
		}
		ev := tracker.SubmitForm{FormID: v.FormID, FormClasses: v.FormClasses}
		if v.Elements != nil {
			ev.Elements = []tracker.FormElement{}
		}
		for _, el := range v.Elements {
			ev.Elements = append(ev.Elements, tracker.FormElement{Name: el.Name, Value: el.Value,
				NodeName: el.NodeName, Type: el.Type})
		}
		return ev, v.options(), nil
	case "change_form":
		var v formField
		err := decodeInto(kind, raw, &v)
		return tracker.ChangeForm(v.field()), v.options(), err
	case "focus_form":
		var v formField
		err := decodeInto(kind, raw, &v)
		return tracker.FocusForm(v.field()), v.options(), err
	case "site_search":
		var v struct {
			common
			Terms        []string       `json:"terms"`
			Filters      map[string]any `json:"filters"`
			TotalResults *int           `json:"total_results"`
			PageResults  *int           `json:"page_results"`
		}
		err := decodeInto(kind, raw, &v)
		return tracker.SiteSearch{Terms: v.Terms, Filters: v.Filters, TotalResults: v.TotalResults,
			PageResults: v.PageResults}, v.options(), err
	case "timing":
		var v struct {
			common
			Category string  `json:"category"`
			Variable string  `json:"variable"`
			Timing   float64 `json:"timing"`
			Label    string  `json:"label"`
		}
		err := decodeInto(kind, raw, &v)
		return tracker.Timing{Category: v.Category, Variable: v.Variable, Timing: v.Timing,
			Label: v.Label}, v.options(), err
	case "ecommerce_transaction":
		var v struct {
			common
			OrderID     string   `json:"order_id"`
			TotalValue  float64  `json:"total_value"`
			Affiliation string   `json:"affiliation"`
			TaxValue    *float64 `json:"tax_value"`
			Shipping    *float64 `json:"shipping"`
			City        string   `json:"city"`
			State       string   `json:"state"`
			Country     string   `json:"country"`
			Currency    string   `json:"currency"`
			Items       []struct {
				SKU      string  `json:"sku"`
				Price    float64 `json:"price"`
				Quantity int     `json:"quantity"`
				Name     string  `json:"name"`
				Category string  `json:"category"`
			} `json:"items"`
		}
		if err := decodeInto(kind, raw, &v); err != nil {
			return nil, nil, err
		}
		ev := tracker.EcommerceTransaction{OrderID: v.OrderID, TotalValue: v.TotalValue,
			Affiliation: v.Affiliation, TaxValue: v.TaxValue, Shipping: v.Shipping, City: v.City,
			State: v.State, Country: v.Country, Currency: v.Currency}
		for _, it := range v.Items {
			ev.Items = append(ev.Items, tracker.TransactionItem{SKU: it.SKU, Price: it.Price,
				Quantity: it.Quantity, Name: it.Name, Category: it.Category})
		}
		return ev, v.options(), nil
	case "add_to_cart":
		var v cartItem
		err := decodeInto(kind, raw, &v)
		return tracker.AddToCart(v.item()), v.options(), err
	case "remove_from_cart":
		var v cartItem
		err := decodeInto(kind, raw, &v)
		return tracker.RemoveFromCart(v.item()), v.options(), err
	case "":
		return nil, nil, DecodeError{errors.New("event: type is missing")}
	default:
		return nil, nil, UnsupportedError{Type: kind, Capability: "event-" + strings.ReplaceAll(kind, "_", "-")}
	}
}

// Subject turns the vector format's subject keys into a tracker.Subject.
func Subject(raw json.RawMessage) (*tracker.Subject, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var v struct {
		UserID           string `json:"user_id"`
		DomainUserID     string `json:"domain_user_id"`
		NetworkUserID    string `json:"network_user_id"`
		ScreenResolution []int  `json:"screen_resolution"`
		Viewport         []int  `json:"viewport"`
		ColorDepth       int    `json:"color_depth"`
		Timezone         string `json:"timezone"`
		Language         string `json:"language"`
		IPAddress        string `json:"ip_address"`
		Useragent        string `json:"useragent"`
		SessionID        string `json:"session_id"`
		SessionIndex     int    `json:"session_index"`
	}
	if err := decodeInto("subject", raw, &v); err != nil {
		return nil, err
	}
	dims := func(name string, d []int) (tracker.Dimensions, error) {
		switch len(d) {
		case 0:
			return tracker.Dimensions{}, nil
		case 2:
			return tracker.Dimensions{Width: d[0], Height: d[1]}, nil
		}
		return tracker.Dimensions{}, DecodeError{fmt.Errorf("subject: %s must be [width, height]", name)}
	}
	res, err := dims("screen_resolution", v.ScreenResolution)
	if err != nil {
		return nil, err
	}
	vp, err := dims("viewport", v.Viewport)
	if err != nil {
		return nil, err
	}
	return &tracker.Subject{UserID: v.UserID, DomainUserID: v.DomainUserID,
		NetworkUserID: v.NetworkUserID, IPAddress: v.IPAddress, UserAgent: v.Useragent,
		Timezone: v.Timezone, Language: v.Language, SessionID: v.SessionID,
		SessionIndex: v.SessionIndex, ColorDepth: v.ColorDepth, ScreenResolution: res,
		Viewport: vp}, nil
}
