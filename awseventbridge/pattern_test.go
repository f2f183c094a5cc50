package awseventbridge_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/awseventbridge"
	"github.com/postroom/postroom/internal/testsupport/awstest"
	"github.com/postroom/postroom/localaws"
)

var patternEvent = []byte(`{"id":"1","account":"123456789012","source":"com.example.orders","time":"2026-01-02T03:04:05Z",` +
	`"region":"us-east-1","resources":[],"detail-type":"Order Placed","detail":{"total":150,"status":"placed","tags":["eu","b2b"]}}`)

// patternCases are patterns with EventBridge's answer for patternEvent.
var patternCases = []struct {
	pattern string
	want    bool
}{
	{`{"source":["com.example.orders"]}`, true},
	{`{"source":["other"]}`, false},
	{`{"detail":{"status":["placed","shipped"]}}`, true},
	{`{"detail":{"tags":["b2b"]}}`, true},
	{`{"detail":{"status":[{"prefix":"pl"}]}}`, true},
	{`{"detail":{"status":[{"anything-but":"placed"}]}}`, false},
	{`{"detail":{"missing":[{"exists":false}]}}`, true},
	{`{"detail":{"total":[{"numeric":[">",100]}]}}`, true},
	{`{"detail-type":["Order Shipped"]}`, false},
}

func TestMatchOffline(t *testing.T) {
	for _, tc := range patternCases {
		got, err := awseventbridge.MatchOffline(tc.pattern, patternEvent)
		require.NoError(t, err, tc.pattern)
		assert.Equal(t, tc.want, got, tc.pattern)
	}
	_, err := awseventbridge.MatchOffline(`{"source":"x"}`, patternEvent)
	assert.ErrorContains(t, err, "Event pattern is not valid")
}

// checkPatternAgreement checks that the service's TestEventPattern gives
// the answers MatchOffline gives.
func checkPatternAgreement(t *testing.T, b *awseventbridge.Bus) {
	t.Helper()
	for _, tc := range patternCases {
		got, err := b.TestEventPattern(context.Background(), tc.pattern, patternEvent)
		require.NoError(t, err, tc.pattern)
		assert.Equal(t, tc.want, got, tc.pattern)
	}
}

// moto_server answers TestEventPattern without evaluating the pattern (its
// Result is always false), so against moto the call is only made and its
// answer decoded; the agreement is checked where the pattern is evaluated.
func TestEventPatternMoto(t *testing.T) {
	c := eventbridge.NewFromConfig(awstest.Moto(t))
	b := newBus(t, c, awseventbridge.Options{})
	got, err := b.TestEventPattern(context.Background(), patternCases[0].pattern, patternEvent)
	require.NoError(t, err)
	if got != patternCases[0].want {
		t.Log("moto_server does not evaluate TestEventPattern (its Result is always false): agreement not checked against it")
		return
	}
	checkPatternAgreement(t, b)
}

// TestEventPatternLocal checks the agreement through the SDK against the
// local endpoint, which evaluates patterns.
func TestEventPatternLocal(t *testing.T) {
	_, cfg := localaws.NewTestServer(t, localaws.Options{})
	b := newBus(t, eventbridge.NewFromConfig(cfg), awseventbridge.Options{})
	checkPatternAgreement(t, b)
}
