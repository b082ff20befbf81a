package locale

// Error is a refusal a person reads, in their language: a sentinel for the
// code that decides (errors.Is), and a catalogue message for the screen.
type Error struct {
	// Err is the sentinel the refusal wraps.
	Err error
	// ID and Args are the message a person reads.
	ID   string
	Args Args
}

// Errorf returns an Error for sentinel with the message id and its args.
func Errorf(sentinel error, id string, args Args) error {
	return &Error{Err: sentinel, ID: id, Args: args}
}

// Error writes the message in the source language, for logs.
func (e *Error) Error() string {
	return Embedded().Source().F(e.ID, e.Args) + ": " + e.Err.Error()
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// In writes the message in the Printer's language.
func (e *Error) In(p *Printer) string { return p.F(e.ID, e.Args) }
