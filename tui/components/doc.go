// Package components holds the small building blocks that sspr's screens
// are drawn from: the app frame, the help bar, the password checklist and
// strength meter, the code countdown, and the masking of contact details.
//
// Everything here is a pure render function from values to a string: no
// component keeps state or is a tea.Model, so a screen can call them from
// View without allocating models, and tests can check their output directly.
// Each function that takes a width never returns a line wider than it, and
// each function that shows text a user or a directory controls sanitises it.
package components
