package train

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/s3test"
)

// startS3 starts a versitygw S3 server on loopback and returns a store on a
// fresh bucket.
func startS3(t *testing.T) *hub.S3Store {
	t.Helper()
	s3 := s3test.Start(t)
	s3.MakeBucket(t, "models")
	st, err := hub.NewS3Store(hub.S3Config{Endpoint: s3.Endpoint, Region: s3test.Region, Bucket: "models", Prefix: "zoo",
		AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey})
	require.NoError(t, err)
	return st
}
