package pattern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchEvent is a ~1 KB EventBridge event.
var benchEvent = []byte(`{
  "version": "0",
  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "111122223333",
  "time": "2017-12-22T18:43:48Z",
  "region": "us-west-1",
  "resources": [
    "arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0",
    "arn:aws:ec2:us-west-1:123456789012:volume/vol-049df61146c4d7901"
  ],
  "detail": {
    "instance-id": "i-1234567890abcdef0",
    "state": "terminated",
    "previous-state": "running",
    "count": 42,
    "launch-time": "2017-12-20T09:12:30Z",
    "instance-type": "m5.large",
    "network": {
      "vpc-id": "vpc-0a1b2c3d4e5f60718",
      "subnet-id": "subnet-0123456789abcdef0",
      "private-ip": "10.0.1.17",
      "security-groups": ["sg-0123456789abcdef0", "sg-0fedcba9876543210"]
    },
    "tags": [
      {"key": "env", "value": "prod"},
      {"key": "team", "value": "payments"},
      {"key": "cost-center", "value": "cc-4711"}
    ],
    "metrics": {"cpu": 12.5, "memory": 61.2, "disk-io": 1048576, "net-in": 73400320},
    "reason": "User initiated (2017-12-22 18:43:40 GMT)",
    "requested-by": "arn:aws:iam::111122223333:user/alice"
  }
}`)

// benchPattern returns the i-th pattern of a deterministic mix of exact,
// prefix, anything-but, numeric and exists conditions. The first five (one
// of each kind) match benchEvent, so the result size stays constant.
func benchPattern(i int) string {
	hit := i < 5
	src, typ, inst := fmt.Sprintf("aws.svc%d", i), fmt.Sprintf("Type %d", i), fmt.Sprintf("i-%08d", i)
	if hit {
		src, typ, inst = "aws.ec2", "EC2 Instance State-change Notification", "i-12345"
	}
	switch i % 5 {
	case 0:
		return fmt.Sprintf(`{"source": [%q], "detail-type": [%q]}`, src, typ)
	case 1:
		return fmt.Sprintf(`{"source": [%q], "detail": {"instance-id": [{"prefix": %q}]}}`, src, inst)
	case 2:
		return fmt.Sprintf(`{"source": [%q], "detail": {"state": [{"anything-but": ["running", "pending"]}]}}`, src)
	case 3:
		return fmt.Sprintf(`{"detail-type": [%q], "detail": {"count": [{"numeric": [">", %d, "<=", %d]}]}}`, typ, i%40, i%40+100)
	default:
		return fmt.Sprintf(`{"source": [%q], "detail": {"network": {"vpc-id": [{"exists": true}]}}}`, src)
	}
}

func benchMatcher(b *testing.B, n int) *Matcher {
	b.Helper()
	m := NewMatcher()
	for i := 0; i < n; i++ {
		p, err := Compile([]byte(benchPattern(i)))
		require.NoError(b, err)
		require.NoError(b, m.Add(fmt.Sprintf("p%05d", i), p))
	}
	return m
}

// BenchmarkMatcher measures Matcher.MatchAppend on benchEvent with a growing
// number of patterns.
func BenchmarkMatcher(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("patterns=%d", n), func(b *testing.B) {
			m := benchMatcher(b, n)
			dst, err := m.MatchAppend(nil, benchEvent)
			require.NoError(b, err)
			require.NotEmpty(b, dst)
			b.SetBytes(int64(len(benchEvent)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				dst, err = m.MatchAppend(dst[:0], benchEvent)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkPatternMatch measures a single compiled pattern.
func BenchmarkPatternMatch(b *testing.B) {
	p, err := Compile([]byte(benchPattern(2)))
	require.NoError(b, err)
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := p.Match(benchEvent); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkMatcherEvents measures a one-pattern Matcher on variants of
// benchEvent: as is, compact, with escapes and tab-indented.
func BenchmarkMatcherEvents(b *testing.B) {
	var compact bytes.Buffer
	require.NoError(b, json.Compact(&compact, benchEvent))
	escaped := bytes.Replace(benchEvent, []byte(`"User initiated (2017-12-22 18:43:40 GMT)"`),
		[]byte(`"User \"initiated\" (2017-12-22 18:43:40 GMT) \u2713"`), 1)
	tabs := bytes.ReplaceAll(benchEvent, []byte("  "), []byte("\t"))
	m := benchMatcher(b, 1)
	for _, ev := range []struct {
		name  string
		event []byte
	}{{"pretty", benchEvent}, {"compact", compact.Bytes()}, {"escaped", escaped}, {"tabs", tabs}} {
		b.Run(ev.name, func(b *testing.B) {
			dst, err := m.MatchAppend(nil, ev.event)
			require.NoError(b, err)
			require.NotEmpty(b, dst)
			b.SetBytes(int64(len(ev.event)))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = m.MatchAppend(dst[:0], ev.event)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
