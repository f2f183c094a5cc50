#!/usr/bin/env bash
# Runs examples/quickstart and examples/worker on Amazon SQS as served by
# the local AWS endpoint: `postroom serve` on a free port, the examples
# pointed at it with AWS_ENDPOINT_URL, their output checked. The same
# commands run them on real AWS without AWS_ENDPOINT_URL (see the README).
#
#   scripts/examples-aws.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}

tmp=$(mktemp -d -t postroom-examples-aws.XXXXXX)
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "examples-aws: $*" >&2
  exit 1
}

go build -o "$tmp/postroom" ./cmd/postroom
go build -o "$tmp/quickstart" ./examples/quickstart
go build -o "$tmp/worker" ./examples/worker

"$tmp/postroom" serve -addr 127.0.0.1:0 >"$tmp/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  grep -q '^export AWS_ENDPOINT_URL=' "$tmp/serve.log" && break
  kill -0 "$server" 2>/dev/null || fail "postroom serve exited: $(cat "$tmp/serve.log")"
  sleep 0.1
done
endpoint=$(sed -n 's/^export AWS_ENDPOINT_URL=//p' "$tmp/serve.log")
[ -n "$endpoint" ] || fail "postroom serve printed no endpoint: $(cat "$tmp/serve.log")"
echo "examples-aws: local endpoint $endpoint"

# The environment the examples would have on AWS, pointed at the endpoint;
# nothing else from the caller's AWS setup may leak in.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_SQS
export AWS_ENDPOINT_URL=$endpoint AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true

# aws sqs create-queue, through the Query API (no CLI needed).
create_queue() {
  curl -fsS -o /dev/null --data-urlencode "Action=CreateQueue" --data-urlencode "Version=2012-11-05" \
    --data-urlencode "QueueName=$1" "$endpoint/" || fail "CreateQueue $1 failed"
}
create_queue MyQueue
create_queue jobs
create_queue jobs-dlq

echo "examples-aws: quickstart"
QUEUE_URL=awssqs://MyQueue "$tmp/quickstart" >"$tmp/quickstart.log" 2>&1 || fail "quickstart failed: $(cat "$tmp/quickstart.log")"
cat "$tmp/quickstart.log"
grep -q '^received id=.* body="Hello, SQS!" author=quickstart receive-count=1$' "$tmp/quickstart.log" ||
  fail "quickstart: no received line"
grep -q '^deleted  id=' "$tmp/quickstart.log" || fail "quickstart: no deleted line"
grep -q '^queue now holds 0 visible, 0 in flight, 0 delayed$' "$tmp/quickstart.log" ||
  fail "quickstart: the queue is not empty afterwards"

echo "examples-aws: worker"
# Short retry delays: SQS rounds a nack's delay up to whole seconds.
"$tmp/worker" -queue awssqs://jobs -dlq awssqs://jobs-dlq -demo-jobs 12 -exit-when-idle \
  -retry-initial 1s -retry-max 2s >"$tmp/worker.log" 2>&1 || fail "worker failed: $(cat "$tmp/worker.log")"
tail -n 3 "$tmp/worker.log"
grep -q 'msg="worker stopped" done=10 failed_attempts=6 dead_lettered=2$' "$tmp/worker.log" ||
  fail "worker: unexpected totals: $(tail -n 5 "$tmp/worker.log")"
grep -q 'malformed job' "$tmp/worker.log" || fail "worker: the malformed job was not reported"

echo "examples-aws: ok"
