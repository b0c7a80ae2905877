package tracker

import "strconv"

// Dimensions is a width and height in pixels (screen resolution, viewport).
type Dimensions struct {
	Width, Height int
}

func (d Dimensions) text() string {
	return strconv.Itoa(d.Width) + "x" + strconv.Itoa(d.Height)
}

func (d Dimensions) isZero() bool { return d.Width == 0 && d.Height == 0 }

// Subject is who and what an event is about. Zero-valued fields are not sent. A tracker has
// one (WithSubject); a track call may add its own over it (WithEventSubject), field by field.
type Subject struct {
	UserID        string // uid
	DomainUserID  string // duid
	NetworkUserID string // tnuid: the tracker-set network user id
	IPAddress     string // ip
	UserAgent     string // ua
	Timezone      string // tz
	Language      string // lang
	SessionID     string // sid
	// SessionIndex is vid, the 1-based session count (0: not sent).
	SessionIndex     int
	ColorDepth       int        // cd (0: not sent)
	ScreenResolution Dimensions // res
	Viewport         Dimensions // vp
}

// over returns s with every non-zero field of o taking precedence.
func (s Subject) over(o *Subject) Subject {
	if o == nil {
		return s
	}
	pick := func(a *string, b string) {
		if b != "" {
			*a = b
		}
	}
	pick(&s.UserID, o.UserID)
	pick(&s.DomainUserID, o.DomainUserID)
	pick(&s.NetworkUserID, o.NetworkUserID)
	pick(&s.IPAddress, o.IPAddress)
	pick(&s.UserAgent, o.UserAgent)
	pick(&s.Timezone, o.Timezone)
	pick(&s.Language, o.Language)
	pick(&s.SessionID, o.SessionID)
	if o.SessionIndex != 0 {
		s.SessionIndex = o.SessionIndex
	}
	if o.ColorDepth != 0 {
		s.ColorDepth = o.ColorDepth
	}
	if !o.ScreenResolution.isZero() {
		s.ScreenResolution = o.ScreenResolution
	}
	if !o.Viewport.isZero() {
		s.Viewport = o.Viewport
	}
	return s
}

func (s Subject) validate() error {
	for _, f := range []struct{ name, v string }{
		{"subject.UserID", s.UserID}, {"subject.DomainUserID", s.DomainUserID},
		{"subject.NetworkUserID", s.NetworkUserID}, {"subject.IPAddress", s.IPAddress},
		{"subject.UserAgent", s.UserAgent}, {"subject.Timezone", s.Timezone},
		{"subject.Language", s.Language}, {"subject.SessionID", s.SessionID},
	} {
		if err := checkText(f.name, f.v); err != nil {
			return err
		}
	}
	if s.SessionIndex < 0 || s.ColorDepth < 0 {
		return invalid("subject: SessionIndex and ColorDepth must not be negative")
	}
	for _, d := range []Dimensions{s.ScreenResolution, s.Viewport} {
		if d.Width < 0 || d.Height < 0 {
			return invalid("subject: dimensions must not be negative")
		}
	}
	return nil
}

// anonymous drops every user and session identifier (anonymous tracking).
func (s Subject) anonymous() Subject {
	s.UserID, s.DomainUserID, s.NetworkUserID, s.IPAddress = "", "", "", ""
	s.SessionID, s.SessionIndex = "", 0
	return s
}

func (s Subject) addTo(p Payload) {
	put := func(k, v string) {
		if v != "" {
			p[k] = v
		}
	}
	put("uid", s.UserID)
	put("duid", s.DomainUserID)
	put("tnuid", s.NetworkUserID)
	put("ip", s.IPAddress)
	put("ua", s.UserAgent)
	put("tz", s.Timezone)
	put("lang", s.Language)
	put("sid", s.SessionID)
	if s.SessionIndex != 0 {
		p["vid"] = strconv.Itoa(s.SessionIndex)
	}
	if s.ColorDepth != 0 {
		p["cd"] = strconv.Itoa(s.ColorDepth)
	}
	if !s.ScreenResolution.isZero() {
		p["res"] = s.ScreenResolution.text()
	}
	if !s.Viewport.isZero() {
		p["vp"] = s.Viewport.text()
	}
}
