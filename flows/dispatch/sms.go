package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"text/template"
	"time"
	"unicode"
)

// SMSConfig configures an HTTP SMS gateway channel.
type SMSConfig struct {
	// URL is the gateway endpoint, http:// or https://. It may hold
	// {{.To}} and {{.Text}} in its path or query (values URL-escaped), for
	// gateways that take the message in the URL.
	URL string
	// Method is POST (the default), PUT or GET. With GET the rendered
	// BodyTemplate, form-encoded, is added to the URL's query and no body is
	// sent; without a template (and without placeholders in the URL) the
	// query gets to=...&text=....
	Method string
	// BodyTemplate is a text/template over {{.To}} and {{.Text}}. The values
	// are escaped for ContentType: JSON string escaping (write the quotes in
	// the template: {"to":"{{.To}}"}), form encoding, XML escaping, or none
	// for other types.
	BodyTemplate string
	// ContentType defaults to application/json.
	ContentType string
	// AuthHeader is the value of the Authorization header, e.g.
	// "Bearer ..."; empty sends none.
	AuthHeader string
	// Timeout bounds one Send when ctx has no earlier deadline (default 10s).
	Timeout time.Duration

	// Transport carries the requests; nil means a clone of
	// http.DefaultTransport. Not a config setting: for tests.
	Transport http.RoundTripper
}

// SMSChannel sends text messages by one HTTP request to a gateway; a 2xx
// reply means the gateway accepted the message. Redirects are not
// followed, so the message and the Authorization header go to the
// configured URL only. Safe for concurrent use.
type SMSChannel struct {
	url         *url.URL
	urlTmpl     *template.Template // nil when the URL holds no placeholders
	method      string
	body        *template.Template // nil when no body or query is sent
	contentType string
	escape      func(string) string
	auth        string
	timeout     time.Duration
	client      *http.Client
}

// smsData is what the templates see.
type smsData struct {
	To   string
	Text string
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// The sample message renders the templates at start, so a template that
// drops a field or produces broken JSON fails then, not at the first code.
var smsSample = smsData{To: "+15550100999", Text: "Sample \"text\" \\ with\nnew line, <tag> & ünïcode"}

// NewSMSChannel checks c, renders the templates once with a sample message
// to prove them, and returns the channel.
func NewSMSChannel(c SMSConfig) (*SMSChannel, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(u.Host, "{") {
		return nil, errors.New("sms: url must be an http:// or https:// URL with a host (placeholders only in its path or query)")
	}
	method := strings.ToUpper(c.Method)
	if method == "" {
		method = http.MethodPost
	}
	if method != http.MethodPost && method != http.MethodPut && method != http.MethodGet {
		return nil, fmt.Errorf("sms: method must be GET, POST or PUT, not %q", c.Method)
	}
	if strings.ContainsFunc(c.AuthHeader, unicode.IsControl) {
		return nil, errors.New("sms: auth header must not contain control characters")
	}
	ct := c.ContentType
	if ct == "" {
		ct = "application/json"
	}
	if method == http.MethodGet {
		ct = "application/x-www-form-urlencoded"
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mediaType, "/") || strings.ContainsFunc(ct, unicode.IsControl) {
		return nil, fmt.Errorf("sms: content type %q is not a media type", c.ContentType)
	}
	ch := &SMSChannel{url: u, method: method, contentType: ct, auth: c.AuthHeader, timeout: c.Timeout}
	isJSON := mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
	switch {
	case isJSON:
		ch.escape = jsonEscape
	case mediaType == "application/x-www-form-urlencoded":
		ch.escape = url.QueryEscape
	case mediaType == "application/xml" || mediaType == "text/xml" || strings.HasSuffix(mediaType, "+xml"):
		ch.escape = xmlEscape
	default:
		ch.escape = func(s string) string { return s }
	}
	if ch.timeout <= 0 {
		ch.timeout = 10 * time.Second
	}

	if strings.Contains(c.URL, "{{") {
		if ch.urlTmpl, err = template.New("sms url").Option("missingkey=error").Parse(c.URL); err != nil {
			return nil, fmt.Errorf("sms: url: %w", err)
		}
	}
	tmpl := c.BodyTemplate
	switch {
	case tmpl == "" && method != http.MethodGet:
		return nil, errors.New("sms: body template is required unless the method is GET")
	case tmpl == "" && ch.urlTmpl == nil:
		tmpl = "to={{.To}}&text={{.Text}}"
	}
	if tmpl != "" {
		if ch.body, err = template.New("sms body").Option("missingkey=error").Parse(tmpl); err != nil {
			return nil, fmt.Errorf("sms: body template: %w", err)
		}
	}

	sampleURL, err := ch.fillURL(smsSample)
	if err != nil {
		return nil, fmt.Errorf("sms: url: %w", err)
	}
	if target, err := url.Parse(sampleURL); err != nil || target.Scheme != u.Scheme || target.Host != u.Host {
		return nil, errors.New("sms: url: the placeholders must leave a valid URL with the same scheme and host")
	}
	sample, err := ch.render(smsSample)
	if err != nil {
		return nil, fmt.Errorf("sms: body template: %w", err)
	}
	used := func(v string) bool {
		return bytes.Contains(sample, []byte(ch.escape(v))) ||
			(ch.urlTmpl != nil && strings.Contains(sampleURL, url.QueryEscape(v)))
	}
	if !used(smsSample.To) || !used(smsSample.Text) {
		return nil, errors.New("sms: the body template (or the url) must use both {{.To}} and {{.Text}}")
	}
	switch {
	case ch.body == nil:
	case method == http.MethodGet || mediaType == "application/x-www-form-urlencoded":
		if _, err := url.ParseQuery(string(sample)); err != nil {
			return nil, fmt.Errorf("sms: body template does not give a form-encoded body: %w", err)
		}
	case isJSON:
		if !json.Valid(sample) {
			return nil, errors.New(`sms: body template does not give valid JSON (write quotes around the values: "{{.Text}}")`)
		}
	}

	tr := c.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	ch.client = &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return ch, nil
}

// render fills the body template, or returns nil without one.
func (c *SMSChannel) render(d smsData) ([]byte, error) {
	if c.body == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := c.body.Execute(&buf, smsData{To: c.escape(d.To), Text: c.escape(d.Text)}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// target is the URL for a message: the configured one, or its template
// filled with URL-escaped values.
func (c *SMSChannel) target(d smsData) (*url.URL, error) {
	if c.urlTmpl == nil {
		u := *c.url
		return &u, nil
	}
	s, err := c.fillURL(d)
	if err != nil {
		return nil, err
	}
	return url.Parse(s)
}

// fillURL fills the URL template, if there is one, with URL-escaped values.
func (c *SMSChannel) fillURL(d smsData) (string, error) {
	if c.urlTmpl == nil {
		return c.url.String(), nil
	}
	var buf strings.Builder
	if err := c.urlTmpl.Execute(&buf, smsData{To: url.QueryEscape(d.To), Text: url.QueryEscape(d.Text)}); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// String describes the channel for people, without the URL's credentials,
// query or the auth header, e.g. "SMS gateway POST https://gw.example.org/send".
func (c *SMSChannel) String() string {
	u := url.URL{Scheme: c.url.Scheme, Host: c.url.Host, Path: c.url.Path}
	return "SMS gateway " + c.method + " " + u.String()
}

// Send posts m.Text to the gateway for the E.164 number m.To. The error is a
// *ChannelError; it never holds the request or the gateway's reply body,
// which may echo the message.
func (c *SMSChannel) Send(ctx context.Context, m Message) error {
	fail := func(kind error, detail string) *ChannelError {
		return &ChannelError{Channel: "sms", Server: c.url.Host, kind: kind, detail: detail}
	}
	if !e164.MatchString(m.To) {
		return fail(ErrBadDestination, "recipient is not an E.164 number like +15551234567")
	}
	if strings.TrimSpace(m.Text) == "" {
		return fail(nil, "message has no text")
	}
	d := smsData{To: m.To, Text: m.Text}
	body, err := c.render(d)
	if err != nil {
		return fail(nil, "body template: "+scrub(err.Error(), m))
	}
	u, err := c.target(d)
	if err != nil {
		// url.Parse errors quote the URL, which holds the message.
		return fail(nil, "the url template gave an invalid URL")
	}

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	switch {
	case c.method != http.MethodGet:
		rd = bytes.NewReader(body)
	case len(body) > 0:
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += string(body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u.String(), rd)
	if err != nil {
		return fail(nil, "cannot build the request")
	}
	if rd != nil {
		req.Header.Set("Content-Type", c.contentType)
	}
	req.Header.Set("User-Agent", "sspr")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}

	resp, err := c.client.Do(req)
	if err != nil {
		e := fail(ErrUnreachable, "")
		e.Temporary = true
		switch {
		case errors.Is(ctx.Err(), context.Canceled):
			e.ctxErr, e.detail = context.Canceled, "cancelled"
		case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
			e.ctxErr, e.detail = context.DeadlineExceeded, "timed out"
		default:
			// *url.Error quotes the URL, which with GET holds the message;
			// keep only what went wrong underneath.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			e.detail = scrub(err.Error(), m)
		}
		return e
	}
	defer resp.Body.Close()
	// Read a little so the connection can be reused; the reply itself is
	// not shown, since gateways like to echo the message back.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	// The status text is Go's, not the gateway's reason phrase, which is
	// free text.
	e := fail(ErrRejected, strings.TrimSpace(fmt.Sprintf("gateway replied %d %s", resp.StatusCode,
		http.StatusText(resp.StatusCode))))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.detail += " (redirects are not followed: configure the final URL)"
	}
	e.Code = resp.StatusCode
	e.Temporary = resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode >= 500
	return e
}

// jsonEscape escapes s for the inside of a JSON string.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
