// Package scaletest runs zoo-serve the way a fleet runs it, on loopback:
// one S3 store (versitygw) holding the zoo's bucket, three zoo-serve
// replicas each with its own cache over that store, and nginx in front
// with passive health checks and retries. A bounded load client sends real
// Fashion-MNIST images as PNG through nginx and checks every answer against
// the same model run in process, while the test kills a replica, restarts
// every replica in turn, and stops the store.
//
// The test (TestFleet) is all there is: `go test ./internal/scaletest` runs
// the short scenario (part of make test); `make scaletest` runs the long one
// (-long: 100 clients, about a minute of load) and prints the figures.
//
// It needs versitygw and nginx (scripts/install-test-deps.sh) and the
// Fashion-MNIST test set; outside CI it skips when one is missing.
package scaletest
