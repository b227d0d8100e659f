package train

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/hub"
)

const (
	s3AccessKey = "traintest-access"
	s3SecretKey = "traintest-Secret-5b1d"
	s3Bucket    = "models"
)

// startS3 starts a versitygw S3 server on loopback (installed by
// scripts/install-test-deps.sh), creates s3Bucket and returns a store on
// it. Outside CI a missing binary skips the test; under CI it fails.
func startS3(t *testing.T) *hub.S3Store {
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
	cmd := exec.Command(bin, "--port", addr, "posix", t.TempDir())
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s3AccessKey, "ROOT_SECRET_KEY="+s3SecretKey)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	for deadline := time.Now().Add(15 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("versitygw exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s: %s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s, err := hub.NewS3Store(hub.S3Config{Endpoint: "http://" + addr, Region: "us-east-1", Bucket: s3Bucket,
		Prefix: "zoo", AccessKeyID: s3AccessKey, SecretAccessKey: s3SecretKey})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Client().MakeBucket(ctx, s3Bucket, minio.MakeBucketOptions{}))
	return s
}
