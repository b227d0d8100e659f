package train

import (
	"testing"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/s3test"
)

// startS3 starts a versitygw S3 server on loopback and returns a store on a
// fresh bucket.
func startS3(t *testing.T) *hub.S3Store {
	t.Helper()
	return s3test.Start(t).Bucket(t, "models", "zoo")
}
