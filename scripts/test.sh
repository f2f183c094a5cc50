#!/usr/bin/env bash
# The full test suite: vet, every test with the race detector against real
# brokers (installed and started when missing), a short run of every fuzz
# target, and a build of the benchmark module.
#
#   scripts/test.sh                 everything
#   FUZZTIME=30s scripts/test.sh    longer fuzz runs (default 10s each)
#   POSTROOM_NO_BROKERS=1 scripts/test.sh
#                                   skip installing/starting brokers (their
#                                   integration tests then skip, naming the
#                                   variable they wait for)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fuzztime=${FUZZTIME:-10s}
export GOFLAGS=${GOFLAGS:--buildvcs=false}

step() { printf '\n=== %s\n' "$*"; }

step "go vet"
go vet ./...

if [ -z "${POSTROOM_NO_BROKERS:-}" ]; then
  step "brokers: install and start"
  bash scripts/brokers.sh install
  bash scripts/brokers.sh start all
  eval "$(bash scripts/brokers.sh env)"
  export POSTROOM_REQUIRE_BROKERS=1
fi

step "go test -race ./..."
go test -race -count=1 -timeout 25m ./... 2>&1 | tee /tmp/postroom-test.log
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo "go test failed (exit $status)"
  exit "$status"
fi

step "fuzz: $fuzztime per target"
# Every func FuzzXxx in a _test.go file, run on its own.
grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./bench/' | sort | while read -r f; do
  pkg="./$(dirname "${f#./}")"
  for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
    echo "--- $pkg $target"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
  done
done

if [ -f bench/go.mod ]; then
  step "benchmark module: vet and build"
  (cd bench && go vet ./... && go test -count=1 -run '^$' -bench '^$' ./...)
fi

step "examples"
go run ./examples/quickstart >/dev/null
echo "examples/quickstart ran"

echo
echo "all checks passed"
