package awsurl

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom"
)

func TestARNRegion(t *testing.T) {
	assert.Equal(t, "eu-west-1", ARNRegion("arn:aws:sns:eu-west-1:123456789012:orders"))
	assert.Equal(t, "", ARNRegion("orders"))
	assert.Equal(t, "", ARNRegion("arn:nope"))
}

func TestConfig(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	ctx := context.Background()

	cfg, err := Config(ctx, "p", "open", url.Values{}, "")
	require.NoError(t, err)
	assert.Equal(t, "us-east-1", cfg.Region)
	assert.Nil(t, cfg.BaseEndpoint)

	cfg, err = Config(ctx, "p", "open", url.Values{"endpoint": {"http://127.0.0.1:4566"}}, "eu-west-2")
	require.NoError(t, err)
	assert.Equal(t, "eu-west-2", cfg.Region, "the region given beats the environment")
	assert.Equal(t, "http://127.0.0.1:4566", *cfg.BaseEndpoint)

	cfg, err = Config(ctx, "p", "open", url.Values{"region": {"ap-south-1"}}, "eu-west-2")
	require.NoError(t, err)
	assert.Equal(t, "ap-south-1", cfg.Region, "the parameter beats the region given")

	_, err = Config(ctx, "p", "open", url.Values{"regoin": {"x"}}, "")
	require.ErrorIs(t, err, postroom.ErrInvalid)
	assert.EqualError(t, err, `p: open: invalid argument: unknown URL parameter "regoin" (known: endpoint, profile, region)`)

	_, err = Config(ctx, "p", "open", url.Values{"profile": {"nosuch"}}, "")
	require.ErrorIs(t, err, postroom.ErrInvalid)
}
