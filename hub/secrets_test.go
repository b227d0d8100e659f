package hub

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// TestNoCredentialInLogsOrFiles converts a published checkpoint from an
// upstream mirror that requires user:password (given in ZOO_UPSTREAM),
// pushes the ONNX to an S3 store opened with keys from the environment,
// and fails on the way once (wrong password, unreachable mirror); no log
// line, error, progress output, cached file, record or pushed object
// holds the password, the user or the S3 secret key.
func TestNoCredentialInLogsOrFiles(t *testing.T) {
	const user, pass = "mirror-user-7d1e", "mirror-pa55-c0ffee"
	fx := publishedFixtures(t)[0]
	m := upstreamManifest(t, []torchFixture{fx})
	var authed int
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		authed++
		http.ServeFile(w, r, filepath.Join(torchDir, fx.Name+".pt"))
	}))
	defer up.Close()
	v := startVersity(t)
	t.Setenv("ZOO_S3_ENDPOINT", v.endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", testAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testSecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv(EnvPush, "1")

	var logs, progress bytes.Buffer
	cache := t.TempDir()
	opts := []Option{WithManifest(m), WithStoreURI("s3://" + testBucket + "/zoo"), WithCache(cache), WithOffline(false),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithProgress(&progress), WithRetries(-1, 0)}
	name := fx.Name + "_published"
	withAuth := func(u, p string) string { return strings.Replace(up.URL, "http://", "http://"+u+":"+p+"@", 1) }

	var errs []string
	t.Setenv(EnvUpstream, withAuth(user, "wrong-"+pass))
	_, err := Load(name, opts...)
	require.ErrorIs(t, err, ErrAccessDenied)
	errs = append(errs, err.Error())
	t.Setenv(EnvUpstream, "http://"+user+":"+pass+"@127.0.0.1:1")
	_, err = Load(name, opts...)
	require.Error(t, err)
	assert.True(t, IsTransient(err), "an unreachable mirror is transient: %v", err)
	errs = append(errs, err.Error())

	t.Setenv(EnvUpstream, withAuth(user, pass))
	model, err := Load(name, opts...)
	require.NoError(t, err)
	assert.Equal(t, 1, authed, "the credentials were used")
	assert.Equal(t, up.URL+"/models/"+fx.Name+"_0.pt", model.net.Metadata()["source"], "the ONNX names its source without userinfo")

	pushed, _, err := v.store(t, "zoo").Get(context.Background(), fx.Name+".onnx")
	require.NoError(t, err)
	onnx, err := io.ReadAll(pushed)
	pushed.Close()
	require.NoError(t, err)

	haystacks := testutil.ReadTree(t, cache)
	haystacks["logs"], haystacks["progress"], haystacks["errors"], haystacks["pushed ONNX"] = logs.Bytes(), progress.Bytes(), []byte(strings.Join(errs, "\n")), onnx
	require.Greater(t, len(haystacks), 5, "the cache holds the ONNX, the record and the lock")
	require.Contains(t, logs.String(), "converted upstream checkpoint")
	testutil.AssertNoSecrets(t, haystacks, pass, user, testSecretKey)
}
