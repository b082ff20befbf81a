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
	"github.com/sspr-kiosk/sspr/flows/locale"
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
		// Purpose is what the code is for: "reset", "unlock", "admin" or
		// "register"; anything else gets a general sentence.
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
		// Method is the method's label, a catalogue ID ("method.email.label").
		Method string
		// Change says what happened, a catalogue ID ("email.change.removed"),
		// and ChangeArgs its placeholders; a "Method" among them is a
		// catalogue ID too.
		Change     string
		ChangeArgs map[string]any
		Time       time.Time
		Source     string
		Helpdesk   string
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

// Renderer fills the message templates in each language sspr speaks.
// NewRenderer parses every template once per language, its sentences
// bound to that language's Printer; a Renderer is immutable afterwards and
// safe for concurrent use.
type Renderer struct {
	catalogue *locale.Catalogue
	langs     map[string]*templates
}

// templates are the message templates of one language.
type templates struct {
	p    *locale.Printer
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// NewRenderer parses the embedded message templates: "NAME.txt.tmpl" for
// each message and, optionally, "NAME.html.tmpl" beside it, once for every
// language of cat (nil: the catalogue built into the binary). Templates
// hold structure only; every sentence is a catalogue message, written with
// {{t "id" "Name" value ...}} or, with a plural count, {{n "id" count ...}}.
func NewRenderer(cat *locale.Catalogue) (*Renderer, error) {
	if cat == nil {
		cat = locale.Embedded()
	}
	fsys := assets.Templates()
	txtNames, err := fs.Glob(fsys, "*.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse message templates: %w", err)
	}
	r := &Renderer{catalogue: cat, langs: map[string]*templates{}}
	for _, l := range cat.Languages() {
		p := cat.Printer(l.Code)
		ts := &templates{p: p, text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
		funcs := funcsFor(p)
		for _, txtName := range txtNames {
			name := strings.TrimSuffix(txtName, ".txt.tmpl")
			if !templateName.MatchString(name) {
				continue
			}
			tt, err := texttemplate.New(txtName).Option("missingkey=error").Funcs(funcs).ParseFS(fsys, txtName)
			if err != nil {
				return nil, fmt.Errorf("parse message template %q: %w", name, err)
			}
			ts.text[name] = tt
			htmlName := name + ".html.tmpl"
			if _, err := fs.Stat(fsys, htmlName); err != nil {
				continue
			}
			ht, err := htmltemplate.New(htmlName).Option("missingkey=error").Funcs(funcs).ParseFS(fsys, htmlName)
			if err != nil {
				return nil, fmt.Errorf("parse message template %q: %w", name, err)
			}
			ts.html[name] = ht
		}
		r.langs[l.Code] = ts
	}
	return r, nil
}

// funcsFor returns the template functions that write in p's language.
func funcsFor(p *locale.Printer) map[string]any {
	return map[string]any{
		"optional": optional,
		"lang":     func() string { return p.Language().Code },
		"t": func(id string, pairs ...any) (string, error) {
			args, err := argsOf(pairs)
			if err != nil || args == nil {
				return p.T(id), err
			}
			return p.F(id, args), nil
		},
		"n": func(id string, count int, pairs ...any) (string, error) {
			args, err := argsOf(pairs)
			return p.N(id, count, args), err
		},
		// change writes what happened to a method: a catalogue ID with
		// its arguments, the method named in this language.
		"change": func(id string, args any) string {
			a := locale.Args{}
			if m, ok := args.(map[string]any); ok {
				for k, v := range m {
					a[k] = v
				}
			}
			if m, ok := a["Method"].(string); ok {
				a["Method"] = p.T(m)
			}
			return p.F(id, a)
		},
		"minutes": func(n int) string { return p.Duration(time.Duration(n) * time.Minute) },
		"when": func(v any) string {
			switch t := v.(type) {
			case time.Time:
				return p.F("email.when", locale.Args{"Time": p.DateTime(t.UTC())})
			case *time.Time:
				if t != nil {
					return p.F("email.when", locale.Args{"Time": p.DateTime(t.UTC())})
				}
				return ""
			}
			return fmt.Sprint(v)
		},
	}
}

// argsOf turns name, value pairs into a message's placeholders.
func argsOf(pairs []any) (locale.Args, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	if len(pairs)%2 != 0 {
		return nil, errors.New("message arguments come in name, value pairs")
	}
	args := make(locale.Args, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		k, ok := pairs[i].(string)
		if !ok {
			return nil, fmt.Errorf("message argument name %v is not a string", pairs[i])
		}
		args[k] = pairs[i+1]
	}
	return args, nil
}

// Render fills the message template name in the source language; see
// RenderIn.
func (r *Renderer) Render(name string, data any) (Message, error) {
	return r.RenderIn(locale.Source.String(), name, data)
}

// RenderIn fills the message template name ("code", "reset",
// "admin_reset", "info_changed" ...) with data, in the language code names
// (the source language when sspr does not speak it), and returns a Message
// with Subject, Text, HTML and Language set; the caller sets Kind, Channel
// and To. The text template's first line is "Subject: ..."; the HTML
// template is optional and auto-escaped. Control characters other than
// newline and tab are dropped from the result (and newlines from the
// subject), because data such as display names is user-controlled and
// ends up in mail headers and terminals.
func (r *Renderer) RenderIn(code, name string, data any) (Message, error) {
	ts, ok := r.langs[r.catalogue.Printer(code).Language().Code]
	if !ok {
		ts = r.langs[locale.Source.String()]
	}
	tt, ok := ts.text[name]
	if !ok || !templateName.MatchString(name) {
		return Message{}, fmt.Errorf("render %q: %w", name, ErrNoTemplate)
	}
	var buf bytes.Buffer
	if err := tt.Execute(&buf, data); err != nil {
		return Message{}, fmt.Errorf("render %q: %w", name, err)
	}
	m := Message{Language: ts.p.Language().Code}
	m.Subject, m.Text = splitSubject(clean(buf.String()))
	if ht, ok := ts.html[name]; ok {
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
