package dispatch

import "sync"

// sharedRenderer parses the templates once for the whole test binary.
var sharedRenderer = sync.OnceValues(func() (*Renderer, error) { return NewRenderer(nil) })

// Render renders with the embedded templates, for tests that need no
// Renderer of their own.
func Render(name string, data any) (Message, error) {
	r, err := sharedRenderer()
	if err != nil {
		return Message{}, err
	}
	return r.Render(name, data)
}
