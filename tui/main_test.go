package tui

import (
	"testing"

	"github.com/sspr-kiosk/sspr/store/pgtest"
)

// TestMain stops the PostgreSQL cluster the tests share once they are done.
func TestMain(m *testing.M) { pgtest.Main(m) }
