// Package pattern compares postroom's event-pattern Matcher with quamina on
// the same ~1 KB EventBridge event and the same patterns, restricted to
// what both support: exact values, prefix, anything-but on strings, and
// exists.
//
//	go test -run '^$' -bench . -benchmem ./pattern/
package pattern

import (
	"fmt"
	"testing"

	"quamina.net/go/quamina"

	"github.com/postroom/postroom/eventbus/pattern"
)

// event is a ~1 KB EventBridge event.
var event = []byte(`{
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

// patternSrc returns the i-th pattern: a deterministic mix of exact,
// prefix, anything-but and exists. The first four (one of each kind)
// match the event, so the number of matches stays constant.
func patternSrc(i int) string {
	src, typ, inst := fmt.Sprintf("aws.svc%d", i), fmt.Sprintf("Type %d", i), fmt.Sprintf("i-%08d", i)
	if i < 4 {
		src, typ, inst = "aws.ec2", "EC2 Instance State-change Notification", "i-12345"
	}
	switch i % 4 {
	case 0:
		return fmt.Sprintf(`{"source": [%q], "detail-type": [%q]}`, src, typ)
	case 1:
		return fmt.Sprintf(`{"source": [%q], "detail": {"instance-id": [{"prefix": %q}]}}`, src, inst)
	case 2:
		return fmt.Sprintf(`{"source": [%q], "detail": {"state": [{"anything-but": ["running", "pending"]}]}}`, src)
	default:
		return fmt.Sprintf(`{"source": [%q], "detail": {"network": {"vpc-id": [{"exists": true}]}}}`, src)
	}
}

// exactSrc returns the i-th pattern of an exact-match-only set; the first
// one matches the event.
func exactSrc(i int) string {
	if i == 0 {
		return `{"source": ["aws.ec2"], "detail": {"state": ["terminated"]}}`
	}
	return fmt.Sprintf(`{"source": ["aws.svc%d"], "detail": {"state": ["state-%d"]}}`, i, i)
}

var counts = []int{1, 100, 1000, 10000}

// BenchmarkMatch runs postroom and quamina side by side on the mix of
// exact, prefix, anything-but and exists patterns.
func BenchmarkMatch(b *testing.B) { benchmarkBoth(b, patternSrc, 4) }

// BenchmarkMatchExact runs both on exact-match patterns only.
func BenchmarkMatchExact(b *testing.B) { benchmarkBoth(b, exactSrc, 1) }

func benchmarkBoth(b *testing.B, patternSrc func(int) string, hits int) {
	for _, n := range counts {
		b.Run(fmt.Sprintf("lib=postroom/patterns=%d", n), func(b *testing.B) {
			m := pattern.NewMatcher()
			for i := 0; i < n; i++ {
				p, err := pattern.Compile([]byte(patternSrc(i)))
				if err != nil {
					b.Fatal(err)
				}
				if err := m.Add(fmt.Sprintf("p%05d", i), p); err != nil {
					b.Fatal(err)
				}
			}
			dst, err := m.MatchAppend(nil, event)
			if err != nil || len(dst) != min(n, hits) {
				b.Fatalf("matched %v, %v", dst, err)
			}
			b.SetBytes(int64(len(event)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if dst, err = m.MatchAppend(dst[:0], event); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
		b.Run(fmt.Sprintf("lib=quamina/patterns=%d", n), func(b *testing.B) {
			q, err := quamina.New()
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if err := q.AddPattern(fmt.Sprintf("p%05d", i), patternSrc(i)); err != nil {
					b.Fatal(err)
				}
			}
			got, err := q.MatchesForEvent(event)
			if err != nil || len(got) != min(n, hits) {
				b.Fatalf("matched %v, %v", got, err)
			}
			b.SetBytes(int64(len(event)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := q.MatchesForEvent(event); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
