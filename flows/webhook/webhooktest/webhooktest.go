// Package webhooktest is for tests only: a receiver's check of a webhook
// delivery written from the Standard Webhooks specification, independently
// of sspr's signer, and the spec's published example vector. Only _test.go
// files import it.
package webhooktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// SpecSecret, SpecID, SpecTimestamp, SpecPayload and SpecSignature are the
// example vector the Standard Webhooks project publishes with its reference
// libraries (libraries/go/webhook_test.go, TestWebhookSign).
const (
	SpecSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	SpecID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	SpecTimestamp = "1614265330"
	SpecPayload   = `{"test": 2432232314}`
	SpecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// Verify is a receiver's check of a delivery, written from the
// specification and not from sspr's code: the secret's base64 after whsec_
// is the HMAC-SHA256 key over "id.timestamp.body"; the header holds
// space-separated "v1,<base64>" signatures, one of which must match; the
// timestamp must be within five minutes of now. It returns
// why the delivery is refused, or "".
func Verify(secret string, hdr http.Header, body []byte, now time.Time) string {
	id, ts, sigs := hdr.Get("webhook-id"), hdr.Get("webhook-timestamp"), hdr.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return "missing header"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "bad timestamp"
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return "timestamp out of tolerance"
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "bad secret"
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Split(sigs, " ") {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return ""
		}
	}
	return "no signature matches"
}
