// Package s3test starts a real S3 server (versitygw, installed by
// scripts/install-test-deps.sh) on loopback for tests.
package s3test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// Credentials and region of the servers Start runs.
const (
	AccessKey = "s3test-access"
	SecretKey = "s3test-Secret-5b1d"
	Region    = "us-east-1"
)

// Server is a running versitygw.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT

	bin, addr, root string
	p               *testutil.Proc // nil while stopped
}

// Start runs versitygw on a free loopback port with a temporary root and
// stops it when the test ends. Outside CI a missing binary skips the test;
// under CI (CI set) it fails.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		out, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(string(bytes.TrimSpace(out)), "bin", "versitygw")
		if _, err := os.Stat(bin); err != nil {
			testutil.Need(t, errors.New("versitygw not installed"))
		}
	}
	addr := testutil.FreeAddr(t)
	s := &Server{Endpoint: "http://" + addr, bin: bin, addr: addr, root: t.TempDir()}
	s.Restart(t)
	return s
}

// Stop kills the server, keeping its root, so that Restart serves the same
// buckets on the same port. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.p != nil {
		s.p.Kill()
		s.p = nil
	}
}

// Restart starts a stopped server again on its port and root and waits
// until it listens. It stops when t's test ends.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	require.Nil(t, s.p, "s3test: Restart of a running server")
	env := append(os.Environ(), "ROOT_ACCESS_KEY="+AccessKey, "ROOT_SECRET_KEY="+SecretKey)
	s.p = testutil.Start(t, env, s.bin, "--port", s.addr, "posix", s.root)
	s.p.WaitListen(t, s.addr, 15*time.Second)
}

// MakeBucket creates a bucket. Tests open stores on it with hub.NewS3Store
// and the Endpoint, AccessKey, SecretKey and Region of this package (s3test
// does not import hub, so that hub's own tests can use it).
func (s *Server) MakeBucket(t testing.TB, bucket string) {
	t.Helper()
	u, err := url.Parse(s.Endpoint)
	require.NoError(t, err)
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(AccessKey, SecretKey, ""), Region: Region})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: Region}))
}
