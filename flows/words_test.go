package flows

import "testing"

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 rows", 1: "1 row", 2: "2 rows", 1204: "1,204 rows", -3: "-3 rows"} {
		if got := Count(n, "row", "rows"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Count(1, "try", "tries"); got != "1 try" {
		t.Errorf("got %q", got)
	}
}

func TestWrongCodeErrorCountsTries(t *testing.T) {
	if got := (&WrongCodeError{AttemptsLeft: 1}).Error(); got != ErrWrongCode.Error()+" (1 try left)" {
		t.Errorf("got %q", got)
	}
	if got := (&WrongCodeError{AttemptsLeft: 3}).Error(); got != ErrWrongCode.Error()+" (3 tries left)" {
		t.Errorf("got %q", got)
	}
}
