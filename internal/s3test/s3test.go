// Package s3test starts a real S3 server (versitygw, installed by
// scripts/install-test-deps.sh) on loopback for tests.
package s3test

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/stretchr/testify/require"
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
	cmd             *exec.Cmd
	done            chan struct{}
	logs            *syncBuffer
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
			msg := "versitygw not installed: run scripts/install-test-deps.sh"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	s := &Server{Endpoint: "http://" + addr, bin: bin, addr: addr, root: t.TempDir()}
	t.Cleanup(s.Stop)
	s.Restart(t)
	return s
}

// Stop kills the server, keeping its root, so that Restart serves the same
// buckets on the same port. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts a stopped server again on its port and root and waits
// until it listens.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	require.Nil(t, s.cmd, "s3test: Restart of a running server")
	cmd := exec.Command(s.bin, "--port", s.addr, "posix", s.root)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+AccessKey, "ROOT_SECRET_KEY="+SecretKey)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done, s.logs = cmd, done, logs
	for deadline := time.Now().Add(15 * time.Second); ; {
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			s.cmd = nil
			t.Fatalf("versitygw exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s: %s", s.addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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
