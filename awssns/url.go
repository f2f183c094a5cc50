package awssns

import (
	"context"
	"net/url"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

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
	name, cfg, err := awsurl.NameOrARN(ctx, pkgName, op, "topic", u)
	if err != nil {
		return nil, err
	}
	sc := sqs.NewFromConfig(cfg)
	return open(ctx, sns.NewFromConfig(cfg), sc, sc, name, Options{})
}
