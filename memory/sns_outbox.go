package memory

import (
	"slices"
	"time"

	"github.com/postroom/postroom/internal/snsmsg"
)

// OutboxMessage is what a topic would have sent to an e-mail or SMS
// subscription. Nothing is sent: the world keeps it for tests to read
// (World.Outbox).
type OutboxMessage struct {
	// Protocol is "email", "email-json" or "sms".
	Protocol string
	// Endpoint is the address or phone number.
	Endpoint        string
	TopicARN        string
	SubscriptionARN string
	// Type is "SubscriptionConfirmation" or "Notification".
	Type      string
	MessageID string
	// Subject is the e-mail's subject line ("" for SMS).
	Subject string
	// Body is the text sent: the message (email, sms), the signed JSON
	// envelope (email-json), or the confirmation request.
	Body string
	Time time.Time
}

// Outbox returns what the world's topics would have sent to e-mail and
// SMS subscriptions, oldest first.
func (w *World) Outbox() []OutboxMessage {
	w.sns.mu.Lock()
	defer w.sns.mu.Unlock()
	return slices.Clone(w.sns.outbox)
}

// record puts a notification to an e-mail or SMS subscription in the
// outbox.
func (s *snsEndpoints) record(et endpointTarget, n *notification) {
	m := OutboxMessage{Protocol: et.e.protocol, Endpoint: et.e.endpoint, TopicARN: n.topic.arn, SubscriptionARN: et.e.arn,
		Type: snsmsg.TypeNotification, MessageID: n.id, Body: string(n.body), Time: n.time}
	switch et.e.protocol {
	case "email":
		m.Subject = n.subject
		if m.Subject == "" {
			m.Subject = "AWS Notification Message"
		}
	case "email-json":
		m.Subject = "AWS Notification Message"
		if env, err := s.envelope(n.topic, et, snsmsg.TypeNotification, n, ""); err == nil {
			m.Body = string(snsmsg.Marshal(env))
		}
	}
	s.add(m)
}

// recordConfirmation puts the confirmation request of an e-mail
// subscription in the outbox.
func (s *snsEndpoints) recordConfirmation(t *Topic, et endpointTarget, token string) {
	m := OutboxMessage{Protocol: et.e.protocol, Endpoint: et.e.endpoint, TopicARN: t.arn, SubscriptionARN: et.e.arn,
		Type: snsmsg.TypeSubscriptionConfirmation, Subject: "AWS Notification - Subscription Confirmation", Time: time.Now()}
	if env, err := s.envelope(t, et, snsmsg.TypeSubscriptionConfirmation, nil, token); err == nil {
		m.MessageID = env.MessageID
		m.Body = env.Message + "\n\n" + env.SubscribeURL
		if et.e.protocol == "email-json" {
			m.Body = string(snsmsg.Marshal(env))
		}
	}
	s.add(m)
}

func (s *snsEndpoints) add(m OutboxMessage) {
	s.mu.Lock()
	s.outbox = append(s.outbox, m)
	s.mu.Unlock()
}
