package flows

import "testing"

func TestMaskEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice@example.com", "a•••e@example.com"},
		{"a@example.com", "a•••@example.com"},
		{"ab@example.com", "a•••@example.com"},
		{"abc@example.com", "a•••c@example.com"},
		{"first.last+tag@sub.example.org", "f•••g@sub.example.org"},
		{"zoë@example.com", "z•••ë@example.com"},
		{"weird@local@example.com", "w•••l@example.com"},
		{"@example.com", "•••@example.com"},
		{"nodomain", "n•••n"},
		{"  alice@example.com \n", "a•••e@example.com"},
		{"", ""},
	}
	for _, tt := range tests {
		got := MaskEmail(tt.in)
		if got != tt.want {
			t.Errorf("MaskEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+15555554567", "+1 ••• ••• 4567"},
		{"+1 (555) 555-4567", "+1 ••• ••• 4567"},
		{"+447700900123", "+44 ••• ••• 0123"},
		{"+4915112345678", "+49 ••• ••• 5678"},
		{"+79161234567", "+7 ••• ••• 4567"},
		{"+353851234567", "+353 ••• ••• 4567"},
		{"+3725123456", "+372 ••• ••• 3456"},
		{"+6831234", "+683 ••• •••"},       // Niue: too short to show anything
		{"5555554567", "••• ••• 4567"},     // no "+": country code unknown
		{"00447700900123", "••• ••• 0123"}, // international prefix is not E.164
		{"+1234567890123456", "••• ••• 3456"},
		{"12345", "••• •••"},
		{"", ""},
		{"no digits", ""},
	}
	for _, tt := range tests {
		got := MaskPhone(tt.in)
		if got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
