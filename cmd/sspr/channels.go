package main

import (
	"fmt"

	"github.com/sspr-kiosk/sspr/flows/config"
	"github.com/sspr-kiosk/sspr/flows/dispatch"
)

// deliveryChannels builds the email and SMS channels the config asks for:
// SMTP when smtp.host is set, the HTTP gateway when sms.url is. With
// outbox given (the demo: the store's table the demo shows), it carries
// what those do not; otherwise a channel that is not configured does not
// exist, and the flows do not offer its methods: a code stored in a table
// reaches nobody.
// Secrets (the SMTP password, the gateway's auth header) are read here,
// once, at start.
func deliveryChannels(cfg config.Config, outbox dispatch.Channel) (map[string]dispatch.Channel, error) {
	channels := map[string]dispatch.Channel{}
	if outbox != nil {
		channels[dispatch.ChannelEmail] = outbox
		channels[dispatch.ChannelSMS] = outbox
	}
	if cfg.SMTP.Host != "" {
		ch, err := smtpChannel(cfg)
		if err != nil {
			return nil, err
		}
		channels[dispatch.ChannelEmail] = ch
	}
	if cfg.SMS.URL != "" {
		ch, err := smsChannel(cfg)
		if err != nil {
			return nil, err
		}
		channels[dispatch.ChannelSMS] = ch
	}
	return channels, nil
}

// smtpChannel builds the SMTP channel of the smtp section.
func smtpChannel(cfg config.Config) (*dispatch.SMTPChannel, error) {
	password, err := cfg.SMTPPassword()
	if err != nil {
		return nil, fmt.Errorf("email delivery: %w", err)
	}
	ch, err := dispatch.NewSMTPChannel(dispatch.SMTPConfig{
		Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, TLS: cfg.SMTP.TLS,
		Username: cfg.SMTP.Username, Password: password,
		From: cfg.SMTP.From, FromName: senderName(cfg),
		Timeout: cfg.Codes.SendTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("email delivery: %w", err)
	}
	return ch, nil
}

// senderName is the name email comes from: smtp.from_name, else the
// organisation's, else sspr's.
func senderName(cfg config.Config) string {
	switch {
	case cfg.SMTP.FromName != "":
		return cfg.SMTP.FromName
	case cfg.UI.Organisation != "":
		return cfg.UI.Organisation
	}
	return "sspr"
}

// smsChannel builds the gateway channel of the sms section.
func smsChannel(cfg config.Config) (*dispatch.SMSChannel, error) {
	auth, err := cfg.SMSAuthHeader()
	if err != nil {
		return nil, fmt.Errorf("text delivery: %w", err)
	}
	ch, err := dispatch.NewSMSChannel(dispatch.SMSConfig{
		URL: cfg.SMS.URL, Method: cfg.SMS.Method, BodyTemplate: cfg.SMS.BodyTemplate,
		ContentType: cfg.SMS.ContentType, AuthHeader: auth, Timeout: cfg.SMS.Timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("text delivery: %w", err)
	}
	return ch, nil
}
