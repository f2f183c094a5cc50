// Package awsurl loads the AWS configuration that the AWS drivers' URL
// openers share: the SDK's default chain, narrowed by the query
// parameters region, profile and endpoint, and no others.
package awsurl

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/postroom/postroom"
)

// Params are the query parameters Config knows.
var Params = []string{"endpoint", "profile", "region"}

// Check returns an error naming pkg and op when q holds a parameter that
// is not one of Params.
func Check(pkg, op string, q url.Values) error {
	for k := range q {
		if k != "region" && k != "profile" && k != "endpoint" {
			return &postroom.Error{Pkg: pkg, Op: op, Message: "unknown URL parameter " + strconv.Quote(k) + " (known: endpoint, profile, region)", Kind: postroom.ErrInvalid}
		}
	}
	return nil
}

// Config checks q and loads the configuration it asks for. region, when
// not empty, is the region to use unless q names one.
func Config(ctx context.Context, pkg, op string, q url.Values, region string) (aws.Config, error) {
	if err := Check(pkg, op, q); err != nil {
		return aws.Config{}, err
	}
	if r := q.Get("region"); r != "" {
		region = r
	}
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if p := q.Get("profile"); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, &postroom.Error{Pkg: pkg, Op: op, Message: "loading the AWS configuration: " + err.Error(), Kind: postroom.ErrInvalid, Err: err}
	}
	if e := q.Get("endpoint"); e != "" {
		cfg.BaseEndpoint = aws.String(e)
	}
	return cfg, nil
}

// ARNRegion returns the region of s when it is an ARN, and "" otherwise.
func ARNRegion(s string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return ""
	}
	return a.Region
}

// NameOrARN is Config for a URL that names a resource by name
// ("scheme://name") or by ARN ("scheme:///arn:…"): it returns the name or
// ARN and the configuration, in the ARN's region unless the URL names
// one. what is the kind of resource, for the error ("topic", "bus").
func NameOrARN(ctx context.Context, pkg, op, what string, u *url.URL) (string, aws.Config, error) {
	q := u.Query()
	if err := Check(pkg, op, q); err != nil {
		return "", aws.Config{}, err
	}
	name := strings.Trim(u.Host+u.Path, "/")
	if u.Opaque != "" {
		name = u.Opaque
	}
	if name == "" || (!strings.HasPrefix(name, "arn:") && strings.Contains(name, "/")) {
		return "", aws.Config{}, &postroom.Error{Pkg: pkg, Op: op, Kind: postroom.ErrInvalid,
			Message: fmt.Sprintf("want %[1]s://<%[2]s name> or %[1]s:///<%[2]s ARN>", u.Scheme, what)}
	}
	cfg, err := Config(ctx, pkg, op, q, ARNRegion(name))
	return name, cfg, err
}
