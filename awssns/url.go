package awssns

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postroom/postroom"
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
// parameters region, profile and endpoint, and no others.
func OpenURL(ctx context.Context, u *url.URL) (pubsub.Topic, error) {
	op := "open " + strconv.Quote(u.Redacted())
	q := u.Query()
	for k := range q {
		if k != "region" && k != "profile" && k != "endpoint" {
			return nil, &postroom.Error{Pkg: pkgName, Op: op, Message: "unknown URL parameter " + strconv.Quote(k) + " (known: endpoint, profile, region)", Kind: postroom.ErrInvalid}
		}
	}
	name := strings.Trim(u.Host+u.Path, "/")
	if u.Opaque != "" {
		name = u.Opaque
	}
	if name == "" || (!strings.HasPrefix(name, "arn:") && strings.Contains(name, "/")) {
		return nil, &postroom.Error{Pkg: pkgName, Op: op, Message: "want awssns://<topic name> or awssns:///<topic ARN>", Kind: postroom.ErrInvalid}
	}
	var opts []func(*config.LoadOptions) error
	if r := q.Get("region"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if p := q.Get("profile"); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, &postroom.Error{Pkg: pkgName, Op: op, Message: "loading the AWS configuration: " + err.Error(), Kind: postroom.ErrInvalid, Err: err}
	}
	if e := q.Get("endpoint"); e != "" {
		cfg.BaseEndpoint = aws.String(e)
	}
	sc := sqs.NewFromConfig(cfg)
	return open(ctx, sns.NewFromConfig(cfg), sc, sc, name, Options{})
}
