package awssns

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postroom/postroom"
	"github.com/postroom/postroom/internal/awsurl"
	"github.com/postroom/postroom/pubsub"
)

// Scheme is the URL scheme of topics.
const Scheme = "awssns"

func init() {
	pubsub.Register(Scheme, opener{})
}

type opener struct{}

func (opener) OpenTopicURL(ctx context.Context, u *url.URL) (pubsub.Topic, error) {
	return OpenURL(ctx, u)
}

// OpenURL opens the topic u names: "awssns://orders?region=eu-west-1" by
// name, or "awssns:///arn:aws:sns:eu-west-1:123456789012:orders" by ARN,
// with a configuration from the SDK's default chain. It takes the query
// parameters region, profile and endpoint, and no others; without region,
// a topic given by ARN is opened in the ARN's region.
func OpenURL(ctx context.Context, u *url.URL) (pubsub.Topic, error) {
	op := "open " + strconv.Quote(u.Redacted())
	q := u.Query()
	if err := awsurl.Check(pkgName, op, q); err != nil {
		return nil, err
	}
	name := strings.Trim(u.Host+u.Path, "/")
	if u.Opaque != "" {
		name = u.Opaque
	}
	if name == "" || (!strings.HasPrefix(name, "arn:") && strings.Contains(name, "/")) {
		return nil, &postroom.Error{Pkg: pkgName, Op: op, Message: "want awssns://<topic name> or awssns:///<topic ARN>", Kind: postroom.ErrInvalid}
	}
	cfg, err := awsurl.Config(ctx, pkgName, op, q, awsurl.ARNRegion(name))
	if err != nil {
		return nil, err
	}
	sc := sqs.NewFromConfig(cfg)
	return open(ctx, sns.NewFromConfig(cfg), sc, sc, name, Options{})
}
