package tracker

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"regexp"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Schemas of the wrappers the protocol puts around entities and self-describing events.
const (
	ContextsSchema      = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
	UnstructEventSchema = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
	PayloadDataSchema   = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
)

// igluURI is vendor/name/format/SchemaVer, as Iglu defines it.
var igluURI = regexp.MustCompile(`^iglu:[a-zA-Z0-9._-]+/[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+/[1-9][0-9]*-(0|[1-9][0-9]*)-(0|[1-9][0-9]*)$`)

// SelfDescribingJSON is an Iglu self-describing JSON: a schema URI and the data it describes.
// Data is anything encoding/json can marshal (a map, a struct with json tags, ...).
type SelfDescribingJSON struct {
	Schema string `json:"schema"`
	Data   any    `json:"data"`
}

// SDJ is shorthand for SelfDescribingJSON{Schema: schema, Data: data}.
func SDJ(schema string, data any) SelfDescribingJSON {
	return SelfDescribingJSON{Schema: schema, Data: data}
}

func (s SelfDescribingJSON) validate(what string) error {
	if !igluURI.MatchString(s.Schema) {
		return invalid("%s: schema %q is not an Iglu URI (iglu:vendor/name/format/1-0-0)", what, s.Schema)
	}
	if s.Data == nil {
		return invalid("%s: data is missing", what)
	}
	return nil
}

// marshalJSON is compact JSON that keeps <, > and & as they are (encoding/json's default
// HTML escaping is meaningless here and only makes payloads longer), refusing invalid UTF-8
// (encoding/json would silently replace it) and non-finite numbers.
func marshalJSON(what string, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, invalid("%s is not JSON-encodable: %v", what, err)
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return out, nil
}

// checkText refuses strings that are not valid UTF-8 (they cannot be sent faithfully).
func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", what)
	}
	return nil
}

func checkRequired(what, s string) error {
	if s == "" {
		return invalid("%s is required", what)
	}
	return checkText(what, s)
}

// numberText is the shortest decimal that reads back as the same float64, never with an
// exponent and without a trailing ".0": 64.5 -> "64.5", 2 -> "2" (spec/vectors/FORMAT.md).
func numberText(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func checkNumber(what string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return invalid("%s must be a finite number", what)
	}
	return nil
}

// base64URL is RFC 4648 §5 (URL-safe alphabet), padding kept; enrich accepts both forms.
func base64URL(b []byte) string {
	return base64.URLEncoding.EncodeToString(b)
}

// encodePayload is the JSON object of p with its keys sorted: what encoding/json would write
// for a map[string]string (without HTML escaping), several times faster. It runs on every
// track call.
func encodePayload(p Payload) []byte {
	names := make([]string, 0, len(p))
	size := 2
	for k, v := range p {
		names = append(names, k)
		size += len(k) + len(v) + 6
	}
	sort.Strings(names)
	buf := make([]byte, 0, size)
	buf = append(buf, '{')
	for i, k := range names {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, k)
		buf = append(buf, ':')
		buf = appendJSONString(buf, p[k])
	}
	return append(buf, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: ", \ and control characters escaped, other
// text as UTF-8, invalid UTF-8 replaced by U+FFFD (as encoding/json does).
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += n
			start = i
			continue
		}
		i += n
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
