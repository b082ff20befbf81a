package dispatch

import (
	"golang.org/x/text/language"

	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	mail "github.com/wneessen/go-mail"
	mailsmtp "github.com/wneessen/go-mail/smtp"
)

// TLS modes of an SMTP channel.
const (
	// TLSNone speaks plain SMTP and never upgrades the connection.
	TLSNone = "none"
	// TLSStartTLS connects in plain text and requires STARTTLS before
	// anything else is said; a server that does not offer it is an error.
	TLSStartTLS = "starttls"
	// TLSImplicit connects with TLS from the first byte (usually port 465).
	TLSImplicit = "tls"
)

// Errors of the SMTP and SMS channels, wrapped by *ChannelError; test with
// errors.Is.
var (
	// ErrUnreachable means the server could not be reached or the connection
	// failed: refused, TLS handshake failed, dropped, or timed out.
	ErrUnreachable = errors.New("server unreachable")
	// ErrRejected means the server answered and refused: an SMTP 4xx or 5xx
	// reply, or a gateway status other than 2xx.
	ErrRejected = errors.New("server refused")
	// ErrBadDestination means the recipient is not a bare email address or
	// an E.164 number; nothing was sent.
	ErrBadDestination = errors.New("not a valid destination")
)

// ChannelError is the error of the SMTP and SMS channels. Its text names the
// server and what went wrong; it never holds the message subject or bodies,
// and long digit runs (codes) are removed from anything the server said. It
// unwraps to ErrUnreachable, ErrRejected or ErrBadDestination when one
// applies, to ErrPermanent when the failure is (see Permanent), and to
// context.DeadlineExceeded or context.Canceled when the attempt ran out of
// time or was cancelled.
type ChannelError struct {
	// Channel is "smtp" or "sms".
	Channel string
	// Server is host:port of the mail server, or the gateway's host.
	Server string
	// Code is the SMTP reply code or the HTTP status; 0 when there was none.
	Code int
	// Temporary says a later attempt may succeed: an SMTP 4xx reply, an HTTP
	// 408, 429 or 5xx, a network failure or a timeout.
	Temporary bool

	kind   error
	ctxErr error
	detail string
}

// Error returns the error as one sentence.
func (e *ChannelError) Error() string {
	var b strings.Builder
	b.WriteString(e.Channel)
	if e.Server != "" {
		b.WriteString(" " + e.Server)
	}
	if e.kind != nil {
		b.WriteString(": " + e.kind.Error())
	}
	if e.detail != "" {
		b.WriteString(": " + e.detail)
	}
	return b.String()
}

// Permanent reports whether the failure is final for this message: the
// server answered with a refusal it does not mark as temporary (an SMTP
// 5xx reply, or an HTTP 4xx other than 408 and 429), or the destination is
// not valid. A failure without such an answer (an unreachable server, an
// untrusted certificate, a redirect, an unclassified error) is not, since
// it may clear up on its own. Nor is a refusal of sspr's own credentials
// (SMTP 530, 534, 535; HTTP 401, 403, 407): that is the operator's setup,
// not the message, and queued notifications should go out once it is fixed.
func (e *ChannelError) Permanent() bool {
	switch e.kind {
	case ErrBadDestination:
		return true
	case ErrRejected:
		return !e.Temporary && !credentialsRefused(e.Channel, e.Code) && e.Code >= 400 && e.Code < 600
	}
	return false
}

// credentialsRefused says whether a reply code refuses the sender's
// credentials rather than the message.
func credentialsRefused(channel string, code int) bool {
	switch channel {
	case "smtp":
		return code == 530 || code == 534 || code == 535
	case "sms":
		return code == 401 || code == 403 || code == 407
	}
	return false
}

// Unwrap returns the sentinels and context error, never the underlying
// library error, whose text may quote what was sent.
func (e *ChannelError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.Permanent() {
		errs = append(errs, ErrPermanent)
	}
	if e.ctxErr != nil {
		errs = append(errs, e.ctxErr)
	}
	return errs
}

// scrub makes server-supplied text safe for an error: the message's subject
// and bodies and long digit runs removed, control characters flattened, the
// length capped (reason in dispatch.go does exactly this).
func scrub(s string, m Message) string {
	if s == "" {
		return ""
	}
	return reason(errors.New(s), m, 0)
}

// scrub is scrub, first blanking the channel's own password (as typed, and
// base64-encoded as AUTH PLAIN and LOGIN send it), which a server could
// echo back in a refusal.
func (c *SMTPChannel) scrub(s string, m Message) string {
	if c.pass != "" {
		for _, secret := range []string{c.pass, base64.StdEncoding.EncodeToString([]byte(c.pass)),
			base64.StdEncoding.EncodeToString([]byte("\x00" + c.user + "\x00" + c.pass))} {
			s = strings.ReplaceAll(s, secret, "[password]")
		}
	}
	return scrub(s, m)
}

// SMTPConfig configures an SMTP channel.
type SMTPConfig struct {
	Host string
	// Port defaults to 587 for starttls, 465 for tls and 25 for none.
	Port int
	// TLS is TLSNone, TLSStartTLS (the default) or TLSImplicit.
	TLS string
	// Username and Password turn on authentication (PLAIN, else LOGIN).
	Username string
	Password string
	// From is the bare sender address; FromName its optional display name.
	From     string
	FromName string
	// Timeout bounds one Send when ctx has no earlier deadline (default 30s).
	Timeout time.Duration

	// RootCAs verifies the server's certificate; nil means the system's
	// roots. It is not a config setting: tests use it for their own CA.
	RootCAs *x509.CertPool
	// AllowInsecureAuth lets Username and Password go over a connection
	// without TLS. Off, such a configuration is refused. Only for a relay on
	// a trusted link (or a test); not a config setting.
	AllowInsecureAuth bool
}

// SMTPChannel sends email through an SMTP server with go-mail. Every Send
// opens its own connection, so a server that restarted or a connection
// that died between codes costs nothing; Send is safe for concurrent use.
type SMTPChannel struct {
	host      string
	port      int
	mode      string
	user      string
	pass      string
	from      *netmail.Address
	domain    string
	timeout   time.Duration
	tlsConfig *tls.Config
	insecure  bool
}

// Limits on what goes into headers.
const (
	maxAddressLength  = 254
	maxFromNameLength = 128
	maxSubjectLength  = 200
)

// NewSMTPChannel checks c and returns the channel. It does not connect.
func NewSMTPChannel(c SMTPConfig) (*SMTPChannel, error) {
	if c.Host == "" || strings.ContainsFunc(c.Host, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) ||
		strings.HasPrefix(c.Host, "unix://") {
		return nil, errors.New("smtp: host must be a host name or IP address")
	}
	host := strings.TrimSuffix(strings.TrimPrefix(c.Host, "["), "]")
	if strings.ContainsAny(host, "/@[]") || (strings.Contains(host, ":") && net.ParseIP(host) == nil) {
		return nil, errors.New("smtp: host must be a host name or IP address, without a port or scheme")
	}
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	port := c.Port
	switch c.TLS {
	case TLSNone:
		port = orDefault(port, 25)
	case TLSStartTLS:
		port = orDefault(port, 587)
	case TLSImplicit:
		port = orDefault(port, 465)
	default:
		return nil, fmt.Errorf("smtp: tls must be %s, %s or %s, not %q", TLSNone, TLSStartTLS, TLSImplicit, c.TLS)
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("smtp: port %d is out of range", port)
	}
	if err := checkAddress(c.From); err != nil {
		return nil, fmt.Errorf("smtp: from: %w", err)
	}
	name, err := checkName(c.FromName)
	if err != nil {
		return nil, fmt.Errorf("smtp: from name: %w", err)
	}
	if (c.Username == "") != (c.Password == "") {
		return nil, errors.New("smtp: username and password go together: set both or neither")
	}
	if strings.ContainsFunc(c.Username, unicode.IsControl) || strings.ContainsFunc(c.Password, unicode.IsControl) {
		return nil, errors.New("smtp: username and password must not contain control characters")
	}
	// A password sent without TLS can be read by anyone on the path, and a
	// man in the middle can strip the server's STARTTLS offer to make us do
	// it. So authentication needs starttls (mandatory, never opportunistic)
	// or implicit TLS, unless the operator has said in code that this link
	// is trusted.
	if c.Username != "" && c.TLS == TLSNone && !c.AllowInsecureAuth {
		return nil, errors.New("smtp: refusing to send a username and password without TLS: " +
			"set tls to starttls or tls")
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	// The Message-ID's right side is the sender's domain, which, unlike
	// the machine's host name, is a real name the sender controls.
	domain := c.From[strings.LastIndexByte(c.From, '@')+1:]
	if strings.ContainsFunc(domain, func(r rune) bool { return r >= utf8.RuneSelf }) {
		domain = "sspr.invalid"
	}
	return &SMTPChannel{
		host: host, port: port, mode: c.TLS, user: c.Username, pass: c.Password,
		from:    &netmail.Address{Name: name, Address: c.From},
		domain:  domain,
		timeout: timeout,
		tlsConfig: &tls.Config{
			ServerName: host,
			RootCAs:    c.RootCAs,
			MinVersion: tls.VersionTLS12,
		},
		insecure: c.AllowInsecureAuth,
	}, nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// String describes the channel for people, without secrets, e.g.
// "SMTP mail.example.org:587 (starttls)".
func (c *SMTPChannel) String() string {
	s := fmt.Sprintf("SMTP %s (%s", c.addr(), c.mode)
	if c.user != "" {
		s += ", as " + c.user
	}
	return s + ")"
}

func (c *SMTPChannel) addr() string { return net.JoinHostPort(c.host, strconv.Itoa(c.port)) }

// Send delivers m to the address m.To as a multipart/alternative message
// (plain text, and HTML when m.HTML is set), within ctx and the channel's
// timeout. The error is a *ChannelError.
func (c *SMTPChannel) Send(ctx context.Context, m Message) error {
	fail := func(kind error, detail string) error {
		return &ChannelError{Channel: "smtp", Server: c.addr(), kind: kind, detail: detail}
	}
	if err := checkAddress(m.To); err != nil {
		return fail(ErrBadDestination, "recipient: "+err.Error())
	}
	if strings.TrimSpace(m.Text) == "" {
		return fail(nil, "message has no text")
	}
	msg, err := c.compose(m)
	if err != nil {
		return fail(nil, c.scrub(err.Error(), m))
	}

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	left := time.Until(deadline)
	if left <= 0 || ctx.Err() != nil {
		return c.failure(ctx, deadline, ctx.Err(), nil, m)
	}

	// Dial ourselves so that ctx governs the whole exchange: go-mail uses it
	// only for the dial and then relies on per-command deadlines. Closing the
	// connection when ctx ends cuts any command short.
	var held heldConn
	defer held.close()
	stop := context.AfterFunc(ctx, held.close)
	defer stop()
	var dialErr error
	dial := func(dctx context.Context, _, _ string) (net.Conn, error) {
		cn, err := c.dial(dctx)
		if err == nil && !held.set(cn) {
			_ = cn.Close()
			err = context.Cause(ctx)
		}
		if err != nil {
			dialErr = err
			return nil, err
		}
		return cn, nil
	}

	opts := []mail.Option{
		mail.WithPort(c.port),
		mail.WithTimeout(left),
		mail.WithDialContextFunc(dial),
		mail.WithTLSConfig(c.tlsConfig.Clone()),
		mail.WithTLSPolicy(mail.NoTLS),
	}
	if c.mode == TLSStartTLS {
		opts[len(opts)-1] = mail.WithTLSPolicy(mail.TLSMandatory)
	}
	if c.user != "" {
		opts = append(opts, mail.WithSMTPAuthCustom(&smtpAuth{user: c.user, pass: c.pass, host: c.host,
			insecure: c.insecure}))
	}
	client, err := mail.NewClient(c.host, opts...)
	if err != nil {
		return fail(nil, c.scrub(err.Error(), m))
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return c.failure(ctx, deadline, err, dialErr, m)
	}
	return nil
}

// heldConn is the connection of one Send, closed when the Send ends or its
// context does, whichever is first.
type heldConn struct {
	mu     sync.Mutex
	conn   net.Conn
	closed bool
}

func (h *heldConn) set(c net.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conn = c
	return true
}

func (h *heldConn) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.conn != nil {
		_ = h.conn.Close()
	}
}

// dial connects to the server, with TLS from the start in implicit mode.
func (c *SMTPChannel) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", c.addr())
	if err != nil {
		return nil, err
	}
	if c.mode != TLSImplicit {
		return raw, nil
	}
	tc := tls.Client(raw, c.tlsConfig.Clone())
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	return tc, nil
}

// failure turns what went wrong into a *ChannelError.
func (c *SMTPChannel) failure(ctx context.Context, deadline time.Time, err, dialErr error, m Message) error {
	e := &ChannelError{Channel: "smtp", Server: c.addr(), Temporary: true}
	switch {
	case ctx.Err() != nil || !time.Now().Before(deadline) || errors.Is(err, os.ErrDeadlineExceeded):
		e.kind, e.ctxErr, e.detail = ErrUnreachable, context.DeadlineExceeded, "timed out"
		if errors.Is(ctx.Err(), context.Canceled) {
			e.ctxErr, e.detail = context.Canceled, "cancelled"
		}
		return e
	case dialErr != nil:
		var certErr *tls.CertificateVerificationError
		e.kind, e.detail, e.Temporary = ErrUnreachable, c.scrub(dialErr.Error(), m), !errors.As(dialErr, &certErr)
		return e
	}
	// go-mail ends a send error with the Message-ID, which means nothing to
	// a person reading the error.
	detail, _, _ := strings.Cut(err.Error(), ", affected message ID:")
	detail = strings.TrimPrefix(strings.TrimPrefix(detail, "dial failed: "), "send failed: ")
	e.detail = c.scrub(detail, m)
	if code := replyCode(err); code >= 400 && code < 600 {
		e.kind, e.Code, e.Temporary = ErrRejected, code, code < 500
		return e
	}
	var certErr *tls.CertificateVerificationError
	var netErr net.Error
	switch {
	case errors.As(err, &certErr):
		// Retrying will not make an untrusted certificate trusted.
		e.kind, e.Temporary = ErrUnreachable, false
		return e
	case errors.As(err, &netErr) || errors.Is(err, net.ErrClosed):
		e.kind = ErrUnreachable
		return e
	}
	e.Temporary = false
	return e
}

// replyCode finds the server's reply code in an error from go-mail.
func replyCode(err error) int {
	var se *mail.SendError
	if errors.As(err, &se) {
		if code := se.ErrorCode(); code != 0 {
			return code
		}
	}
	var tpe *textproto.Error
	if errors.As(err, &tpe) {
		return tpe.Code
	}
	return 0
}

// compose builds the message. Everything that goes into a header has been
// validated (addresses) or flattened (subject), and go-mail encodes header
// values with control or non-ASCII characters as RFC 2047 words, so no input
// can start a header line of its own.
func (c *SMTPChannel) compose(m Message) (*mail.Msg, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	msg.FromMailAddress(c.from)
	msg.ToMailAddress(&netmail.Address{Address: m.To})
	subject := cleanSubject(m.Subject)
	if strings.Contains(subject, "=?") {
		// Text that looks like an RFC 2047 encoded word would be decoded
		// by mail clients into something else, line breaks included; as
		// encoded words itself, it shows as written.
		msg.SetGenHeaderPreformatted(mail.HeaderSubject, encodeWords(subject))
	} else {
		msg.Subject(subject)
	}
	msg.SetDate()
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	msg.SetMessageIDWithValue(hex.EncodeToString(id) + "@" + c.domain)
	// Automated mail: no out-of-office replies to it (RFC 3834, Exchange).
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	// The reader's mail client picks fonts, hyphenation and speech by it.
	// A queued message's language comes back from the store, so only a
	// well-formed tag becomes a header.
	if tag, err := language.Parse(m.Language); err == nil && m.Language != "" {
		msg.SetGenHeader(mail.HeaderContentLang, tag.String())
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// encodeWords encodes s as RFC 2047 base64 words of at most 75 characters,
// one per folded line, never splitting a character.
func encodeWords(s string) string {
	const maxRaw = 45 // base64 of 45 bytes is 60 characters, plus 12 of framing
	var words []string
	for s != "" {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > maxRaw {
				break
			}
			n += size
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n ")
}

// smtpAuth authenticates with PLAIN, or LOGIN when the server offers only
// that, and only over TLS unless insecure is set.
type smtpAuth struct {
	user, pass, host string
	insecure         bool
	mech             mailsmtp.Auth
}

var errAuthWithoutTLS = errors.New("refusing to authenticate over a connection without TLS")

// Start begins the authentication exchange (smtp.Auth).
func (a *smtpAuth) Start(server *mailsmtp.ServerInfo) (string, []byte, error) {
	// go-mail's own mechanisms also allow a plain connection to localhost;
	// we do not, since "localhost" can be a tunnel or a container's sidecar.
	if !server.TLS && !a.insecure {
		return "", nil, errAuthWithoutTLS
	}
	switch {
	case slices.Contains(server.Auth, "PLAIN"):
		a.mech = mailsmtp.PlainAuth("", a.user, a.pass, a.host, a.insecure)
	case slices.Contains(server.Auth, "LOGIN"):
		a.mech = mailsmtp.LoginAuth(a.user, a.pass, a.host, a.insecure)
	default:
		return "", nil, errors.New("server offers neither PLAIN nor LOGIN authentication")
	}
	return a.mech.Start(server)
}

// Next answers the server's next challenge (smtp.Auth).
func (a *smtpAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	return a.mech.Next(fromServer, more)
}

// checkAddress accepts a bare address (local@domain.tld): no display name,
// comments, quotes, spaces, angle brackets or control characters, so it
// can go into RCPT TO and a header as it is.
func checkAddress(s string) error {
	if s == "" {
		return errors.New("empty address")
	}
	if len(s) > maxAddressLength || !utf8.ValidString(s) || strings.ContainsFunc(s, unsafeHeaderRune) ||
		strings.ContainsAny(s, " <>\"(),;:\\[]") {
		return errors.New("not a bare email address")
	}
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return errors.New("not a bare email address")
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") || strings.HasPrefix(s[at+1:], ".") {
		return errors.New("not a bare email address")
	}
	return nil
}

// checkName accepts a display name without control or bidi characters and
// returns it with runs of spaces collapsed.
func checkName(s string) (string, error) {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, unsafeHeaderRune) {
		return "", errors.New("must not contain control characters or line breaks")
	}
	// A name that looks like an RFC 2047 encoded word would be decoded by
	// some mail clients, even inside quotes, into something else.
	if strings.Contains(s, "=?") {
		return "", errors.New(`must not contain "=?"`)
	}
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxFromNameLength {
		return "", fmt.Errorf("longer than %d characters", maxFromNameLength)
	}
	return s, nil
}

// cleanSubject flattens line breaks and other control characters to spaces,
// collapses spaces, and caps the length.
func cleanSubject(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unsafeHeaderRune(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxSubjectLength {
		s = string([]rune(s)[:maxSubjectLength-1]) + "…"
	}
	return s
}

// unsafeHeaderRune reports control characters (C0 with tab, CR and LF, DEL,
// C1), Unicode line and paragraph separators, and bidi controls.
func unsafeHeaderRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029', r == '\u0085':
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	case r == utf8.RuneError:
		return true
	}
	return false
}
