#!/usr/bin/env bash
# Builds the module, and compiles the tests of eventbus/pattern, for every
# supported platform (the pattern package has amd64 assembly and a portable
# scanner), then runs the pattern tests with the portable scanner (the
# purego build tag) on this machine.
#
#   scripts/crossbuild.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}

targets=(linux/amd64 linux/arm64 linux/386 darwin/arm64 windows/amd64)
for target in "${targets[@]}"; do
  goos=${target%/*}
  goarch=${target#*/}
  GOOS=$goos GOARCH=$goarch go build ./...
  GOOS=$goos GOARCH=$goarch go test -c -o /dev/null ./eventbus/pattern
  echo "crossbuild: $target: build and pattern test compile ok"
done

go test -count=1 -tags purego ./eventbus/pattern/
echo "crossbuild: purego: pattern tests ok"
