package localaws

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postroom/postroom/internal/sqsmd5"
	"github.com/postroom/postroom/internal/testsupport/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// awsCLIs finds the AWS CLIs on this machine: the Python AWS CLI 1.x
// (SQS over JSON 1.0) and the Debian package's AWS CLI 2.9 at
// /usr/bin/aws (SQS over Query).
func awsCLIs(t *testing.T) map[string]string {
	t.Helper()
	found := map[string]string{}
	var paths []string
	if p, err := exec.LookPath("aws"); err == nil {
		paths = append(paths, p)
	}
	paths = append(paths, "/usr/bin/aws")
	for _, p := range paths {
		out, err := exec.Command(p, "--version").CombinedOutput()
		if err != nil {
			continue
		}
		switch v := string(out); {
		case strings.HasPrefix(v, "aws-cli/1."):
			found["v1-json"] = p
		case strings.HasPrefix(v, "aws-cli/2."):
			found["v2-query"] = p
		}
	}
	return found
}

type cli struct {
	t        *testing.T
	path     string
	endpoint string
	env      []string
	dir      string
}

func newCLI(t *testing.T, path, endpoint string) *cli {
	dir := t.TempDir()
	return &cli{t: t, path: path, endpoint: endpoint, dir: dir, env: append(os.Environ(),
		"AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_PAGER=", "HOME="+dir)}
}

// run runs an aws command and returns its exit code, stdout and stderr.
func (c *cli) run(args ...string) (int, string, string) {
	c.t.Helper()
	cmd := exec.Command(c.path, append([]string{"--endpoint-url", c.endpoint, "--output", "json"}, args...)...)
	cmd.Env = c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("aws %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// json runs a command that must succeed and decodes its output.
func (c *cli) json(args ...string) map[string]any {
	c.t.Helper()
	code, out, errOut := c.run(args...)
	require.Equal(c.t, 0, code, "aws %v: %s", args, errOut)
	m := map[string]any{}
	if strings.TrimSpace(out) != "" {
		require.NoError(c.t, json.Unmarshal([]byte(out), &m), out)
	}
	return m
}

func (c *cli) file(name, content string) string {
	p := filepath.Join(c.dir, name)
	require.NoError(c.t, os.WriteFile(p, []byte(content), 0o600))
	return "file://" + p
}

func messages(m map[string]any) []map[string]any {
	var out []map[string]any
	list, _ := m["Messages"].([]any)
	for _, x := range list {
		out = append(out, x.(map[string]any))
	}
	return out
}

// TestAWSCLI runs the seed flow and more with every AWS CLI on the machine.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the AWS CLIs (seconds per command): run without -short")
	}
	clis := awsCLIs(t)
	if len(clis) == 0 {
		skipOrFail(t, "no AWS CLI: install the Python AWS CLI (aws) or the Debian package awscli (/usr/bin/aws, scripts/brokers.sh install)")
	}
	for _, name := range []string{"v1-json", "v2-query"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path, ok := clis[name]
			if !ok {
				skipOrFail(t, "AWS CLI "+name+" is not installed")
			}
			s := New(Options{AccessKey: "AKIDLOCAL", SecretKey: "secret"})
			hs := httptest.NewServer(s)
			defer hs.Close()
			defer s.Close()
			c := newCLI(t, path, hs.URL)

			// The seed flow.
			url := c.json("sqs", "create-queue", "--queue-name", "seed")["QueueUrl"].(string)
			assert.Equal(t, hs.URL+"/000000000000/seed", url)
			sent := c.json("sqs", "send-message", "--queue-url", url, "--message-body", "Hello, SQS!",
				"--message-attributes", `{"trace":{"DataType":"String","StringValue":"abc-123"}}`)
			assert.Equal(t, sqsmd5.Body([]byte("Hello, SQS!")), sent["MD5OfMessageBody"])
			got := messages(c.json("sqs", "receive-message", "--queue-url", url, "--attribute-names", "All", "--message-attribute-names", "All"))
			require.Len(t, got, 1)
			assert.Equal(t, "Hello, SQS!", got[0]["Body"])
			assert.Equal(t, sent["MessageId"], got[0]["MessageId"])
			assert.Equal(t, "abc-123", got[0]["MessageAttributes"].(map[string]any)["trace"].(map[string]any)["StringValue"])
			assert.Equal(t, "1", got[0]["Attributes"].(map[string]any)["ApproximateReceiveCount"])
			c.json("sqs", "delete-message", "--queue-url", url, "--receipt-handle", got[0]["ReceiptHandle"].(string))
			attrs := c.json("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "All")["Attributes"].(map[string]any)
			assert.Equal(t, "0", attrs["ApproximateNumberOfMessages"])
			assert.Equal(t, "0", attrs["ApproximateNumberOfMessagesNotVisible"])

			// FIFO with groups and deduplication.
			fifo := c.json("sqs", "create-queue", "--queue-name", "seed.fifo", "--attributes", "FifoQueue=true,ContentBasedDeduplication=true")["QueueUrl"].(string)
			for _, b := range []string{"g1-a", "g2-a", "g1-b", "g1-a"} {
				c.json("sqs", "send-message", "--queue-url", fifo, "--message-body", b, "--message-group-id", b[:2])
			}
			var bodies []string
			for _, m := range messages(c.json("sqs", "receive-message", "--queue-url", fifo, "--max-number-of-messages", "10")) {
				bodies = append(bodies, m["Body"].(string))
			}
			assert.Equal(t, []string{"g1-a", "g1-b", "g2-a"}, bodies)

			// A redrive policy moves a message to the DLQ after maxReceiveCount receives.
			c.json("sqs", "create-queue", "--queue-name", "seed-dlq")
			src := c.json("sqs", "create-queue", "--queue-name", "seed-src", "--attributes", c.file("attrs.json",
				`{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:seed-dlq\",\"maxReceiveCount\":\"2\"}"}`))["QueueUrl"].(string)
			c.json("sqs", "send-message", "--queue-url", src, "--message-body", "poison")
			for range 2 {
				require.Len(t, messages(c.json("sqs", "receive-message", "--queue-url", src, "--visibility-timeout", "0")), 1)
			}
			assert.Empty(t, messages(c.json("sqs", "receive-message", "--queue-url", src)))
			dead := messages(c.json("sqs", "receive-message", "--queue-url", hs.URL+"/000000000000/seed-dlq", "--attribute-names", "All"))
			require.Len(t, dead, 1)
			assert.Equal(t, "poison", dead[0]["Body"])
			assert.Equal(t, "3", dead[0]["Attributes"].(map[string]any)["ApproximateReceiveCount"], "the count goes on in the DLQ")

			// Batches and listing.
			batch := c.json("sqs", "send-message-batch", "--queue-url", url, "--entries", c.file("batch.json",
				`[{"Id":"a","MessageBody":"one"},{"Id":"b","MessageBody":"two\r\nlines <&>"}]`))
			assert.Len(t, batch["Successful"], 2)
			two := messages(c.json("sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "10"))
			require.Len(t, two, 2)
			assert.Equal(t, "two\r\nlines <&>", two[1]["Body"], "bytes survive the protocol")

			// Errors print the service's code and exit non-zero (254 v2, 255 v1).
			code, _, errOut := c.run("sqs", "get-queue-url", "--queue-name", "nope")
			assert.Contains(t, []int{254, 255}, code)
			assert.Contains(t, errOut, "AWS.SimpleQueueService.NonExistentQueue")
			assert.Contains(t, errOut, "The specified queue does not exist.")

			// A wrong secret is refused.
			c.env = append(c.env, "AWS_SECRET_ACCESS_KEY=wrong")
			code, _, errOut = c.run("sqs", "list-queues")
			assert.Contains(t, []int{254, 255}, code)
			assert.Contains(t, errOut, "SignatureDoesNotMatch")
		})
	}
}

const boto3Flow = `
import boto3, json, sys
sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="eu-west-1",
                   aws_access_key_id="AKIDLOCAL", aws_secret_access_key="secret")
url = sqs.create_queue(QueueName="seed")["QueueUrl"]
sent = sqs.send_message(QueueUrl=url, MessageBody="Hello, SQS!",
    MessageAttributes={"n": {"DataType": "Number", "StringValue": "7"}})
got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
try:
    sqs.get_queue_url(QueueName="nope")
    err = None
except sqs.exceptions.QueueDoesNotExist as e:
    err = e.response["Error"]["Code"]
print(json.dumps({"url": url, "body": got[0]["Body"], "md5": sent["MD5OfMessageBody"],
    "md5attrs": got[0]["MD5OfMessageAttributes"], "n": got[0]["MessageAttributes"]["n"]["StringValue"],
    "arn": arn, "err": err}))
`

func TestBoto3(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	if exec.Command(py, "-c", "import boto3").Run() != nil {
		t.Skip("boto3 is not installed in python3")
	}
	s := New(Options{AccessKey: "AKIDLOCAL", SecretKey: "secret"})
	hs := httptest.NewServer(s)
	defer hs.Close()
	defer s.Close()
	cmd := exec.Command(py, "-c", boto3Flow, hs.URL)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	require.NoError(t, err, "%s", out)
	var res map[string]any
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	assert.Equal(t, hs.URL+"/000000000000/seed", res["url"])
	assert.Equal(t, "Hello, SQS!", res["body"])
	assert.Equal(t, sqsmd5.Body([]byte("Hello, SQS!")), res["md5"])
	assert.Equal(t, "7", res["n"])
	assert.Equal(t, "arn:aws:sqs:eu-west-1:000000000000:seed", res["arn"])
	assert.Equal(t, "AWS.SimpleQueueService.NonExistentQueue", res["err"])
}

// skipOrFail skips the test for a missing client, or fails it when the
// full test command requires every client (testenv.RequireVar).
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv(testenv.RequireVar) != "" {
		t.Fatalf("%s, but %s requires it", msg, testenv.RequireVar)
	}
	t.Skip(msg)
}

// TestAWSCLISNSAndEventBridge runs the SNS → SQS and EventBridge → SQS
// flows with every AWS CLI on the machine, checking what they print. The
// CLIs take seconds to start on a busy machine: the flow keeps to 11
// invocations per CLI.
func TestAWSCLISNSAndEventBridge(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the AWS CLIs (seconds per command): run without -short")
	}
	clis := awsCLIs(t)
	for _, name := range []string{"v1-json", "v2-query"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path, ok := clis[name]
			if !ok {
				skipOrFail(t, "AWS CLI "+name+" is not installed (the Python AWS CLI 1.x as aws on PATH, the Debian package awscli as /usr/bin/aws)")
			}
			s := New(Options{})
			hs := httptest.NewServer(s)
			defer hs.Close()
			defer s.Close()
			c := newCLI(t, path, hs.URL)
			const account, region = "000000000000", "us-east-1"

			// SNS: a queue subscribed with a filter policy gets the
			// envelope of what passes the filter.
			qurl := c.json("sqs", "create-queue", "--queue-name", "sns-target")["QueueUrl"].(string)
			topic := c.json("sns", "create-topic", "--name", "orders")["TopicArn"].(string)
			assert.Equal(t, "arn:aws:sns:us-east-1:000000000000:orders", topic)
			queueARN := "arn:aws:sqs:us-east-1:000000000000:sns-target"
			sub := c.json("sns", "subscribe", "--topic-arn", topic, "--protocol", "sqs", "--notification-endpoint", queueARN,
				"--attributes", `{"FilterPolicy":"{\"kind\":[\"keep\"]}"}`, "--return-subscription-arn")["SubscriptionArn"].(string)
			assert.True(t, strings.HasPrefix(sub, topic+":"), sub)
			c.json("sns", "publish", "--topic-arn", topic, "--message", "dropped",
				"--message-attributes", `{"kind":{"DataType":"String","StringValue":"drop"}}`)
			pub := c.json("sns", "publish", "--topic-arn", topic, "--message", "kept <&>", "--subject", "Hi",
				"--message-attributes", `{"kind":{"DataType":"String","StringValue":"keep"}}`)
			got := messages(c.json("sqs", "receive-message", "--queue-url", qurl, "--max-number-of-messages", "10", "--wait-time-seconds", "1"))
			require.Len(t, got, 1, "the filter policy drops the other")
			var env map[string]any
			require.NoError(t, json.Unmarshal([]byte(got[0]["Body"].(string)), &env))
			assert.Equal(t, "Notification", env["Type"])
			assert.Equal(t, pub["MessageId"], env["MessageId"])
			assert.Equal(t, topic, env["TopicArn"])
			assert.Equal(t, "kept <&>", env["Message"])
			assert.Equal(t, "Hi", env["Subject"])
			assert.Equal(t, map[string]any{"kind": map[string]any{"Type": "String", "Value": "keep"}}, env["MessageAttributes"])
			assert.NotEmpty(t, env["Timestamp"])
			assert.Equal(t, "1", env["SignatureVersion"])
			assert.Contains(t, env["UnsubscribeURL"], sub)

			// EventBridge: a rule with a numeric pattern sends the
			// matching event to its queue target (the same queue; the
			// notification above stays in flight).
			pattern := `{"source":["shop"],"detail":{"total":[{"numeric":[">",100]}]}}`
			rule := c.json("events", "put-rule", "--name", "big-orders", "--event-pattern", pattern)["RuleArn"].(string)
			assert.Equal(t, "arn:aws:events:us-east-1:000000000000:rule/big-orders", rule)
			pt := c.json("events", "put-targets", "--rule", "big-orders", "--targets",
				`[{"Id":"q","Arn":"`+queueARN+`"}]`)
			assert.EqualValues(t, 0, pt["FailedEntryCount"])
			put := c.json("events", "put-events", "--entries",
				`[{"Source":"shop","DetailType":"Order Placed","Detail":"{\"total\":150}","Resources":["order/1"]},`+
					`{"Source":"shop","DetailType":"Order Placed","Detail":"{\"total\":5}"}]`)
			assert.EqualValues(t, 0, put["FailedEntryCount"])
			entries := put["Entries"].([]any)
			require.Len(t, entries, 2)
			events := messages(c.json("sqs", "receive-message", "--queue-url", qurl, "--max-number-of-messages", "10", "--wait-time-seconds", "1"))
			require.Len(t, events, 1, "only the order over 100")
			var ev map[string]any
			require.NoError(t, json.Unmarshal([]byte(events[0]["Body"].(string)), &ev))
			assert.Equal(t, entries[0].(map[string]any)["EventId"], ev["id"])
			assert.Equal(t, "shop", ev["source"])
			assert.Equal(t, "Order Placed", ev["detail-type"])
			assert.Equal(t, map[string]any{"total": float64(150)}, ev["detail"])
			assert.Equal(t, []any{"order/1"}, ev["resources"])
			assert.Equal(t, account, ev["account"])
			assert.Equal(t, region, ev["region"])
			assert.Equal(t, "0", ev["version"])

			// test-event-pattern (the put-events above showed a pattern
			// that does not match).
			event := `{"id":"1","account":"000000000000","source":"shop","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail-type":"x","detail":{"total":101}}`
			assert.Equal(t, true, c.json("events", "test-event-pattern", "--event-pattern", pattern, "--event", event)["Result"])
		})
	}
}
