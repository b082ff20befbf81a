package flows_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/flows/flowstest"
	"github.com/sspr-kiosk/sspr/flows/password"
	"github.com/sspr-kiosk/sspr/flows/policy"
)

// readable is a voucher as read out on a call: four groups of four.
var readable = regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}$`)

// TestVoucherLifetimeConfigurable issues vouchers under the shortest and
// the longest lifetime the configuration allows: each works until it ends
// and not after, and once.
func TestVoucherLifetimeConfigurable(t *testing.T) {
	for _, life := range []time.Duration{10 * time.Minute, 30 * 24 * time.Hour} {
		t.Run(life.String(), func(t *testing.T) {
			h := flowstest.New(t, flowstest.Options{VoucherLifetime: life})
			ctx := context.Background()
			h.AddUser(t, "frank", false)
			v, err := h.Svc.IssueVoucher(ctx, h.Admin, "frank")
			if err != nil {
				t.Fatal(err)
			}
			if !readable.MatchString(v.Code) {
				t.Fatalf("voucher %q is not four groups of four", v.Code)
			}
			if want := h.Clock.Now().Add(life); !v.ExpiresAt.Equal(want) {
				t.Fatalf("expires at %v, want %v", v.ExpiresAt, want)
			}
			h.Clock.Advance(life + time.Second)
			rs := h.StartReset(t, "frank")
			if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, v.Code); !errors.Is(err, flows.ErrWrongCode) {
				t.Fatalf("voucher after its lifetime: %v", err)
			}
			v, err = h.Svc.IssueVoucher(ctx, h.Admin, "frank")
			if err != nil {
				t.Fatal(err)
			}
			h.Clock.Advance(life - time.Second)
			rs = h.StartReset(t, "frank")
			// Read out as groups, typed in lower case with spaces.
			typed := strings.ToLower(strings.ReplaceAll(v.Code, "-", " "))
			if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, typed); err != nil {
				t.Fatalf("voucher a second before its end: %v", err)
			}
			if err := h.Svc.CompleteReset(ctx, rs.FlowID, "a brand new "+goodPassword); err != nil {
				t.Fatal(err)
			}
			rs = h.StartReset(t, "frank")
			if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, v.Code); !errors.Is(err, flows.ErrWrongCode) {
				t.Fatalf("voucher used twice: %v", err)
			}
		})
	}
}

// TestVoucherLifetimeBounds checks that a service is not built with a
// lifetime outside 10 minutes to 30 days, which the voucher's length was
// not chosen for.
func TestVoucherLifetimeBounds(t *testing.T) {
	h := flowstest.New(t)
	deps := flows.Deps{DB: h.DB, Clock: h.Clock, Hasher: h.Hasher, Checker: password.NewChecker(), Keys: h.Keys,
		Dispatcher: dispatch.New(nil, h.DB, h.Clock, dispatch.Options{})}
	for _, life := range []time.Duration{9 * time.Minute, 30*24*time.Hour + time.Second, -time.Hour} {
		deps.VoucherLifetime = life
		if svc, err := flows.New(deps); !errors.Is(err, flows.ErrInvalid) || svc != nil {
			t.Errorf("lifetime %v: %v", life, err)
		}
	}
	deps.VoucherLifetime = 0
	if _, err := flows.New(deps); err != nil {
		t.Fatalf("the default lifetime: %v", err)
	}
}

// TestVoucherMisheardNotCounted checks that what cannot be a voucher (a
// zero or an O, a group left out) is refused with a word on what a voucher
// looks like and is not a failed proof, while a well-formed wrong voucher
// is: five of those block the account as before.
func TestVoucherMisheardNotCounted(t *testing.T) {
	h := flowstest.New(t)
	ctx := context.Background()
	h.AddUser(t, "frank", false)
	v, err := h.Svc.IssueVoucher(ctx, h.Admin, "frank")
	if err != nil {
		t.Fatal(err)
	}
	rs := h.StartReset(t, "frank")
	misheard := []string{
		strings.Replace(v.Code, v.Code[:1], "0", 1),
		strings.Replace(v.Code, v.Code[:1], "O", 1),
		v.Code[:14], // the last group cut short
		v.Code + "-ABCD",
	}
	for range 3 {
		for _, m := range misheard {
			_, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, m)
			if !errors.Is(err, flows.ErrInvalid) || !strings.Contains(err.Error(), "16 letters and digits") {
				t.Fatalf("%q: %v", m, err)
			}
		}
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, v.Code); err != nil {
		t.Fatalf("twelve misheard vouchers blocked the right one: %v", err)
	}

	v, err = h.Svc.IssueVoucher(ctx, h.Admin, "frank")
	if err != nil {
		t.Fatal(err)
	}
	wrong := "2345-6789-ABCD-EFGH"
	if wrong == v.Code {
		wrong = "3456-789A-BCDE-FGHJ"
	}
	rs = h.StartReset(t, "frank")
	for range flows.AccountFailLimit {
		if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, wrong); !errors.Is(err, flows.ErrWrongCode) {
			t.Fatalf("a wrong voucher: %v", err)
		}
	}
	if _, err := h.Svc.VerifyCode(ctx, rs.FlowID, policy.Voucher, v.Code); !errors.Is(err, flows.ErrBlocked) {
		t.Fatalf("after %d wrong vouchers: %v", flows.AccountFailLimit, err)
	}
}
