package awssqs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/postroom/postroom/awssqs"
)

// An IMDSv2 stand-in hands out role credentials; the driver's calls are
// signed with them, and with new ones once they expire.
func TestInstanceRoleCredentials(t *testing.T) {
	var mu sync.Mutex
	issued := 0
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
			w.Write([]byte("imds-token"))
		case r.Header.Get("X-Aws-Ec2-Metadata-Token") != "imds-token":
			http.Error(w, "no IMDSv2 token", http.StatusUnauthorized)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			w.Write([]byte("worker-role"))
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/worker-role":
			mu.Lock()
			issued++
			n := issued
			mu.Unlock()
			// The first credentials are handed out as they expire (an
			// instance whose role session is rotating); the next ones
			// last an hour.
			exp := time.Now().Add(time.Hour)
			if n == 1 {
				exp = time.Now().Add(-time.Second)
			}
			json.NewEncoder(w).Encode(map[string]string{"Code": "Success", "Type": "AWS-HMAC",
				"AccessKeyId": fmt.Sprintf("ASIAROLE%d", n), "SecretAccessKey": "secret", "Token": "session",
				"Expiration": exp.UTC().Format(time.RFC3339)})
		default:
			http.NotFound(w, r)
		}
	}))
	defer imds.Close()

	var keys []string
	sqsSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if i := strings.Index(auth, "Credential="); i >= 0 {
			mu.Lock()
			keys = append(keys, strings.SplitN(auth[i+len("Credential="):], "/", 2)[0])
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Write([]byte(`{"Attributes":{"VisibilityTimeout":"30","ApproximateNumberOfMessages":"4"}}`))
	}))
	defer sqsSrv.Close()

	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")

	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	require.NoError(t, err)
	cfg.BaseEndpoint = aws.String(sqsSrv.URL)
	q, err := awssqs.NewFromConfig(ctx, cfg, sqsSrv.URL+"/123456789012/orders", awssqs.Options{})
	require.NoError(t, err)
	st, err := q.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, st.Visible)
	_, err = q.Stats(ctx)
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, keys, 3)
	assert.Equal(t, "ASIAROLE1", keys[0], "signed with the role's credentials")
	assert.Equal(t, "ASIAROLE2", keys[1], "expired credentials are fetched again")
	assert.Equal(t, "ASIAROLE2", keys[2], "valid credentials are kept")
	assert.Equal(t, 2, issued, "IMDS asked once per credentials")
}
