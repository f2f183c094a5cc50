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
log=$(mktemp -t postroom-test.XXXXXX)
set +e
go test -race -count=1 -timeout 25m -v ./... >"$log" 2>&1
status=$?
set -e
# Package results, and the tests that skipped with their reasons; the whole
# log stays in $log.
grep -E '^(ok|FAIL)\b' "$log" || true
grep -E -A1 '^\s*--- SKIP' "$log" | grep -vE '^--$' || true
passed=$(grep -cE '^\s*--- PASS' "$log" || true)
failed=$(grep -cE '^\s*--- FAIL' "$log" || true)
skipped=$(grep -cE '^\s*--- SKIP' "$log" || true)
if [ "$status" -ne 0 ]; then
  echo "go test failed (exit $status); the failures:"
  grep -E -B2 -A20 '^\s*--- FAIL|^panic:|^FAIL\b|goleak' "$log" | head -300
  echo "tests: $passed passed, $failed failed, $skipped skipped"
  exit "$status"
fi

step "allocation tests (meaningless under -race, so run without it)"
go test -count=1 -run 'Alloc' ./eventbus/pattern/

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
echo "all checks passed; the test log is $log"
echo "tests: $passed passed, $failed failed, $skipped skipped"
