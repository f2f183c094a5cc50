package awssqs

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/awsurl"
	"github.com/postroom/postroom/queue"
)

// Scheme is the URL scheme of queues opened by name.
const Scheme = "awssqs"

func init() {
	queue.Register(Scheme, urlOpener{})
	queue.Register("https", urlOpener{})
}

type urlOpener struct{}

func (urlOpener) OpenQueueURL(ctx context.Context, u *url.URL) (queue.Queue, error) {
	return OpenURL(ctx, u)
}

// OpenURL opens the queue u names, with a configuration from the SDK's
// default chain: "awssqs://orders?region=eu-west-1" by name, or the
// queue's own URL "https://sqs.eu-west-1.amazonaws.com/123456789012/orders".
// See the package documentation for the parameters.
func OpenURL(ctx context.Context, u *url.URL) (queue.Queue, error) {
	op := "open " + strconv.Quote(u.Redacted())
	q := u.Query()
	if err := awsurl.Check(pkgName, op, q); err != nil {
		return nil, err
	}
	var region string
	var nameOrURL string
	switch u.Scheme {
	case Scheme:
		name := u.Host + u.Path
		if u.Opaque != "" {
			name = u.Opaque
		}
		name = strings.Trim(name, "/")
		if name == "" || strings.Contains(name, "/") {
			return nil, &postroom.Error{Pkg: pkgName, Op: op, Message: "want awssqs://<queue name>", Kind: postroom.ErrInvalid}
		}
		nameOrURL = name
	case "https":
		r, ok := sqsHostRegion(u.Hostname())
		if !ok {
			return nil, &postroom.Error{Pkg: pkgName, Op: op, Message: "not an SQS queue URL (want https://sqs.<region>.amazonaws.com/<account>/<name>)", Kind: postroom.ErrInvalid}
		}
		region = r
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return nil, &postroom.Error{Pkg: pkgName, Op: op, Message: "want https://sqs.<region>.amazonaws.com/<account>/<name>", Kind: postroom.ErrInvalid}
		}
		c := *u
		c.RawQuery = ""
		nameOrURL = c.String()
	default:
		return nil, &postroom.Error{Pkg: pkgName, Op: op, Message: "unknown scheme " + strconv.Quote(u.Scheme), Kind: postroom.ErrInvalid}
	}
	cfg, err := awsurl.Config(ctx, pkgName, op, q, region)
	if err != nil {
		return nil, err
	}
	client := sqs.NewFromConfig(cfg)
	return open(ctx, client, nameOrURL, Options{})
}

// sqsHostRegion returns the region of an SQS endpoint host name:
// sqs.<region>.amazonaws.com, its .com.cn form, or the legacy
// <region>.queue.amazonaws.com.
func sqsHostRegion(host string) (string, bool) {
	host = strings.ToLower(host)
	for _, suffix := range []string{".amazonaws.com", ".amazonaws.com.cn"} {
		rest, ok := strings.CutSuffix(host, suffix)
		if !ok {
			continue
		}
		if r, ok := strings.CutPrefix(rest, "sqs."); ok && r != "" && !strings.Contains(r, ".") {
			return r, true
		}
		if r, ok := strings.CutSuffix(rest, ".queue"); ok && r != "" && !strings.Contains(r, ".") {
			return r, true
		}
	}
	return "", false
}
