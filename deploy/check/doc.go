// Package check holds the tests of the deployment files under deploy/: every
// manifest decodes strictly (an unknown field is an error) into the
// Kubernetes API types, the kustomize overlay builds, the probes, ports and
// environment variables the manifests use are the ones zoo-serve has (read
// from its -h and from the hub's source), and the Dockerfile's `go build`
// line, run as written, gives a static binary that serves from an empty
// directory as a non-root user with only its cache volume writable.
//
// It is its own module so that the product's go.mod stays free of
// Kubernetes; make test runs it (cd deploy/check && go test ./...).
package check
