package memory

import (
	"encoding/json"
	"math"
	"time"
)

// httpRetryPolicy is SNS's "healthyRetryPolicy" for HTTP/S endpoints: of
// NumRetries retries, NumNoDelayRetries come at once, NumMinDelayRetries
// MinDelayTarget seconds apart, then a backoff phase from MinDelayTarget to
// MaxDelayTarget, then NumMaxDelayRetries MaxDelayTarget apart.
type httpRetryPolicy struct {
	MinDelayTarget     int    `json:"minDelayTarget"`
	MaxDelayTarget     int    `json:"maxDelayTarget"`
	NumRetries         int    `json:"numRetries"`
	NumNoDelayRetries  int    `json:"numNoDelayRetries"`
	NumMinDelayRetries int    `json:"numMinDelayRetries"`
	NumMaxDelayRetries int    `json:"numMaxDelayRetries"`
	BackoffFunction    string `json:"backoffFunction"`

	contentType string // of the requests (requestPolicy.headerContentType)
}

// defaultHTTPPolicy is SNS's default HTTP/S delivery policy (the topic's
// EffectiveDeliveryPolicy): three retries, 20 seconds apart, after the
// first attempt.
var defaultHTTPPolicy = httpRetryPolicy{MinDelayTarget: 20, MaxDelayTarget: 20, NumRetries: 3, BackoffFunction: "linear",
	contentType: "text/plain; charset=UTF-8"}

// deliveryPolicyOf returns the policy of a subscription: its own
// DeliveryPolicy ({"healthyRetryPolicy":…,"requestPolicy":…}) over the
// topic's ({"http":{"defaultHealthyRetryPolicy":…,
// "disableSubscriptionOverrides":…,"defaultRequestPolicy":…}}) over SNS's
// default. Values out of SNS's ranges fall back to the default.
func deliveryPolicyOf(sub, topic string) httpRetryPolicy {
	type request struct {
		HeaderContentType string `json:"headerContentType"`
	}
	p := defaultHTTPPolicy
	var tp struct {
		HTTP struct {
			Retry    *httpRetryPolicy `json:"defaultHealthyRetryPolicy"`
			Request  *request         `json:"defaultRequestPolicy"`
			Disabled bool             `json:"disableSubscriptionOverrides"`
		} `json:"http"`
	}
	if json.Unmarshal([]byte(topic), &tp) == nil {
		if tp.HTTP.Retry != nil && tp.HTTP.Retry.valid() {
			p = *tp.HTTP.Retry
			p.contentType = defaultHTTPPolicy.contentType
		}
		if tp.HTTP.Request != nil && tp.HTTP.Request.HeaderContentType != "" {
			p.contentType = tp.HTTP.Request.HeaderContentType
		}
	}
	var sp struct {
		Retry   *httpRetryPolicy `json:"healthyRetryPolicy"`
		Request *request         `json:"requestPolicy"`
	}
	if !tp.HTTP.Disabled && json.Unmarshal([]byte(sub), &sp) == nil {
		if sp.Retry != nil && sp.Retry.valid() {
			ct := p.contentType
			p = *sp.Retry
			p.contentType = ct
		}
		if sp.Request != nil && sp.Request.HeaderContentType != "" {
			p.contentType = sp.Request.HeaderContentType
		}
	}
	if p.BackoffFunction == "" {
		p.BackoffFunction = "linear"
	}
	return p
}

// valid reports whether p is within SNS's limits: delays of 1 to 3,600
// seconds, min not above max, phases adding up to at most NumRetries (0
// to 100).
func (p *httpRetryPolicy) valid() bool {
	return p.MinDelayTarget >= 1 && p.MaxDelayTarget >= p.MinDelayTarget && p.MaxDelayTarget <= 3600 &&
		p.NumRetries >= 0 && p.NumRetries <= 100 && p.NumNoDelayRetries >= 0 && p.NumMinDelayRetries >= 0 && p.NumMaxDelayRetries >= 0 &&
		p.NumNoDelayRetries+p.NumMinDelayRetries+p.NumMaxDelayRetries <= p.NumRetries
}

// delay returns the wait before retry n (1 for the first retry). SNS adds
// jitter; this package does not, so that tests can count on the times.
func (p *httpRetryPolicy) delay(n int) time.Duration {
	lo, hi := float64(p.MinDelayTarget), float64(p.MaxDelayTarget)
	if n <= p.NumNoDelayRetries {
		return 0
	}
	n -= p.NumNoDelayRetries
	if n <= p.NumMinDelayRetries {
		return secs(lo)
	}
	n -= p.NumMinDelayRetries
	phase := p.NumRetries - p.NumNoDelayRetries - p.NumMinDelayRetries - p.NumMaxDelayRetries
	if n > phase {
		return secs(hi)
	}
	f := float64(n) / float64(phase) // (0, 1]: the backoff phase reaches the maximum at its end
	switch p.BackoffFunction {
	case "exponential", "geometric":
		return secs(lo * math.Pow(hi/lo, f))
	case "arithmetic":
		return secs(lo + (hi-lo)*f*f)
	default: // linear
		return secs(lo + (hi-lo)*f)
	}
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
