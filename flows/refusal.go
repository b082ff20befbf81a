package flows

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sspr-kiosk/sspr/flows/locale"
)

// refusal is a refusal a person reads (a *locale.Error: screens write it in
// the reader's language with In) that reads in logs and the CLI as flows'
// errors always have: the English sentence starting in lower case, without
// its full stop, then the sentinel ("username is empty: invalid").
type refusal struct {
	err *locale.Error
	// cause is the error behind the refusal, for errors.Is; the refusal
	// says it already.
	cause error
}

// refuse returns a refusal wrapping sentinel, with the catalogue message
// id and its args. A "Count" in args makes it a plural message.
func refuse(sentinel error, id string, args locale.Args) error {
	var le *locale.Error
	if !errors.As(locale.Errorf(sentinel, id, args), &le) {
		panic("locale.Errorf returned no *locale.Error")
	}
	return &refusal{err: le}
}

// refuseBecause is refuse(ErrInvalid, …) for a cause whose own text a
// person does not read.
func refuseBecause(cause error, id string, args locale.Args) error {
	r := refuse(ErrInvalid, id, args).(*refusal)
	r.cause = cause
	return r
}

// Error writes the refusal in English, as a clause for logs and the CLI.
func (r *refusal) Error() string {
	return clause(r.err.In(locale.Embedded().Source())) + ": " + r.err.Err.Error()
}

// clause writes an English sentence as a clause for an error's text: the
// first letter in lower case, without the full stop. "Username …" becomes
// "username …"; "SSH key …" stays as it is.
func clause(sentence string) string {
	s := strings.TrimSuffix(sentence, ".")
	first, n := utf8.DecodeRuneInString(s)
	if next, _ := utf8.DecodeRuneInString(s[n:]); !unicode.IsUpper(next) {
		s = string(unicode.ToLower(first)) + s[n:]
	}
	return s
}

// Unwrap returns the *locale.Error, which unwraps to the sentinel, and the
// cause when there is one.
func (r *refusal) Unwrap() []error {
	if r.cause != nil {
		return []error{r.err, r.cause}
	}
	return []error{r.err}
}
