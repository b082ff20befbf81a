package flows

// WithGerman is the English catalogue with a German one made of the
// messages given, for tests in package flows_test.
var WithGerman = withGerman
