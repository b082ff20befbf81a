package dispatch

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"reflect"
	"regexp"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/sspr-kiosk/sspr/assets"
)

// Template data. Render also takes a map[string]any with the same keys.
type (
	// CodeData fills the "code" template.
	CodeData struct {
		// Organisation names who sends the message: ui.organisation, or "sspr".
		Organisation string
		Code         string
		Minutes      int
		DisplayName  string
		// Purpose completes "your code to ...", e.g. "reset your password".
		Purpose string
	}
	// ResetData fills the "reset" template.
	ResetData struct {
		// Organisation names who sends the message: ui.organisation, or "sspr".
		Organisation string
		DisplayName  string
		Time         time.Time
		Source       string
		Helpdesk     string
		// Changed says "changed" (the person knew the old password) instead of "reset".
		Changed bool
	}
	// AdminResetData fills the "admin_reset" template, sent to every admin.
	AdminResetData struct {
		// Organisation names who sends the message: ui.organisation, or "sspr".
		Organisation string
		// Admin is the username of the admin whose password was reset.
		Admin  string
		Time   time.Time
		Source string
	}
	// InfoChangedData fills the "info_changed" template.
	InfoChangedData struct {
		// Organisation names who sends the message: ui.organisation, or "sspr".
		Organisation string
		DisplayName  string
		// Method is the method's label, e.g. "Authenticator app".
		Method string
		// Change says what happened, e.g. "added" or "removed".
		Change   string
		Time     time.Time
		Source   string
		Helpdesk string
	}
	// ExpiryData fills the "expiry" template, the reminder before a
	// password expires.
	ExpiryData struct {
		// Organisation names who sends the message: ui.organisation, or "sspr".
		Organisation string
		DisplayName  string
		ExpiresAt    time.Time
		// DaysLeft is the whole days left, rounded up.
		DaysLeft int
		// KioskLocation (ui.kiosk_location) and PortalCommand
		// (ssh.public_command) say where to change it; empty ones are left out.
		KioskLocation string
		PortalCommand string
		Helpdesk      string
	}
)

// ErrNoTemplate means there is no message template of that name.
var ErrNoTemplate = errors.New("no such message template")

var templateName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Renderer fills the message templates. NewRenderer parses every template
// once; a Renderer is immutable afterwards and safe for concurrent use.
type Renderer struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// NewRenderer parses the embedded message templates: "NAME.txt.tmpl" for
// each message and, optionally, "NAME.html.tmpl" beside it.
func NewRenderer() (*Renderer, error) {
	fsys := assets.Templates()
	funcs := map[string]any{"when": when, "optional": optional}
	r := &Renderer{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	txtNames, err := fs.Glob(fsys, "*.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse message templates: %w", err)
	}
	for _, txtName := range txtNames {
		name := strings.TrimSuffix(txtName, ".txt.tmpl")
		if !templateName.MatchString(name) {
			continue
		}
		tt, err := texttemplate.New(txtName).Option("missingkey=error").Funcs(funcs).ParseFS(fsys, txtName)
		if err != nil {
			return nil, fmt.Errorf("parse message template %q: %w", name, err)
		}
		r.text[name] = tt
		htmlName := name + ".html.tmpl"
		if _, err := fs.Stat(fsys, htmlName); err != nil {
			continue
		}
		ht, err := htmltemplate.New(htmlName).Option("missingkey=error").Funcs(funcs).ParseFS(fsys, htmlName)
		if err != nil {
			return nil, fmt.Errorf("parse message template %q: %w", name, err)
		}
		r.html[name] = ht
	}
	return r, nil
}

// Render fills the message template name ("code", "reset", "admin_reset",
// "info_changed") with data and returns a Message with Subject, Text and
// HTML set; the caller sets Kind, Channel and To. The text template's first
// line is "Subject: ..."; the HTML template is optional and auto-escaped.
// Control characters other than newline and tab are dropped from the result
// (and newlines from the subject), because data such as display names is
// user-controlled and ends up in mail headers and terminals.
func (r *Renderer) Render(name string, data any) (Message, error) {
	tt, ok := r.text[name]
	if !ok || !templateName.MatchString(name) {
		return Message{}, fmt.Errorf("render %q: %w", name, ErrNoTemplate)
	}
	var buf bytes.Buffer
	if err := tt.Execute(&buf, data); err != nil {
		return Message{}, fmt.Errorf("render %q: %w", name, err)
	}
	var m Message
	m.Subject, m.Text = splitSubject(clean(buf.String()))
	if ht, ok := r.html[name]; ok {
		buf.Reset()
		if err := ht.Execute(&buf, data); err != nil {
			return Message{}, fmt.Errorf("render %q: %w", name, err)
		}
		m.HTML = clean(buf.String())
	}
	return m, nil
}

// splitSubject takes a leading "Subject: ..." line off the text, and the
// blank lines after it.
func splitSubject(s string) (subject, text string) {
	s = strings.TrimLeft(s, "\n")
	first, rest, _ := strings.Cut(s, "\n")
	if after, ok := strings.CutPrefix(first, "Subject:"); ok {
		return strings.Join(strings.Fields(after), " "), strings.TrimSpace(rest) + "\n"
	}
	return "", strings.TrimSpace(s) + "\n"
}

// clean drops control characters other than newline and tab, and the bidi
// controls that can make text read differently than it is.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069,
			r == 0x200E, r == 0x200F, r == 0x061C:
			return -1
		}
		return r
	}, s)
}

// when formats a time for people, in UTC because the reader's zone is
// unknown; a string (already formatted by the caller) is used as is.
func when(v any) string {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format("Mon 2 Jan 2006 15:04 MST")
	case *time.Time:
		if t != nil {
			return t.UTC().Format("Mon 2 Jan 2006 15:04 MST")
		}
		return ""
	}
	return fmt.Sprint(v)
}

// optional returns a field of a struct or a key of a map, or nil when there
// is none, for template variables that callers may leave out.
func optional(data any, name string) any {
	v := reflect.ValueOf(data)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil
		}
		if e := v.MapIndex(reflect.ValueOf(name).Convert(v.Type().Key())); e.IsValid() {
			return e.Interface()
		}
	case reflect.Struct:
		if f := v.FieldByName(name); f.IsValid() && f.CanInterface() {
			return f.Interface()
		}
	}
	return nil
}
