package hub

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// envVars are the variables FromEnv reads, the only ones the package reads.
var envVars = []string{
	"ZOO_MANIFEST", "ZOO_STORE", "ZOO_S3_ENDPOINT", "AWS_REGION", "ZOO_CACHE", "XDG_CACHE_HOME", "ZOO_OFFLINE",
	EnvUpstream, EnvUpstreamRepeat, EnvTrustNew, EnvPush,
}

// FromEnv returns a Client configured by the environment:
//
//	ZOO_MANIFEST         ManifestSource: a weights.json path or http(s) URL (unset: the embedded one)
//	ZOO_STORE            StoreURI (unset: the weights/ embedded in the binary)
//	ZOO_S3_ENDPOINT      S3Endpoint
//	AWS_REGION           S3Region (credentials: minio-go's chain, see S3Config)
//	ZOO_CACHE            CacheDir (unset: $XDG_CACHE_HOME/fmixzoo, else ~/.cache/fmixzoo)
//	ZOO_OFFLINE          Offline, when set to anything but 0 or false
//	ZOO_UPSTREAM         Upstream.Base
//	ZOO_UPSTREAM_REPEAT  Upstream.Repeat
//	ZOO_TRUST_NEW=1      Upstream.TrustNew
//	ZOO_PUSH=1           Upstream.Push
//
// Its Importer is ImportPyTorch and its Progress stderr when stderr is a
// terminal. It reads no file and makes no request; it fails only on a
// malformed value.
func FromEnv() (*Client, error) { return clientFromEnv(readEnv()) }

// readEnv is the one place the package reads the environment.
func readEnv() map[string]string {
	env := make(map[string]string, len(envVars))
	for _, k := range envVars {
		env[k] = os.Getenv(k)
	}
	return env
}

func clientFromEnv(env map[string]string) (*Client, error) {
	c := &Client{
		ManifestSource: env["ZOO_MANIFEST"],
		StoreURI:       env["ZOO_STORE"],
		S3Endpoint:     env["ZOO_S3_ENDPOINT"],
		S3Region:       env["AWS_REGION"],
		CacheDir:       env["ZOO_CACHE"],
		Importer:       ImportPyTorch,
		Upstream: UpstreamOptions{
			Base:     env[EnvUpstream],
			TrustNew: env[EnvTrustNew] == "1",
			Push:     env[EnvPush] == "1",
		},
		Progress: stderrIfTerminal(),
	}
	if off := env["ZOO_OFFLINE"]; off != "" && off != "0" && off != "false" {
		c.Offline = true
	}
	if c.CacheDir == "" && env["XDG_CACHE_HOME"] != "" {
		c.CacheDir = filepath.Join(env["XDG_CACHE_HOME"], "fmixzoo")
	}
	if s := env[EnvUpstreamRepeat]; s != "" {
		r, err := strconv.Atoi(s)
		if err != nil || r < 0 {
			return nil, fmt.Errorf("hub: %s=%q: want a repeat number, 0 or more", EnvUpstreamRepeat, s)
		}
		c.Upstream.Repeat = r
	}
	return c, nil
}

var defaults struct {
	sync.Mutex
	env    map[string]string
	client *Client
}

// defaultClient is the client of the package-level functions: FromEnv's,
// built on first use and again whenever a variable it reads has changed
// since, so that a changed environment takes effect as it always has
// while an unchanged one keeps the manifest already read.
func defaultClient() (*Client, error) {
	env := readEnv()
	defaults.Lock()
	defer defaults.Unlock()
	if defaults.client == nil || !maps.Equal(env, defaults.env) {
		c, err := clientFromEnv(env)
		if err != nil {
			return nil, err
		}
		defaults.env, defaults.client = env, c
	}
	return defaults.client, nil
}

// manifestTimeout bounds the default manifest's read by the functions
// that take no context (List, Info, DefaultManifest).
const manifestTimeout = 30 * time.Second

// DefaultManifest is the default client's manifest: the one named by
// ZOO_MANIFEST (a path or URL, read within 30 s), else the weights.json
// embedded in the binary. It is read again when ZOO_MANIFEST changes.
// Client.LoadManifest takes a context instead.
func DefaultManifest() (*Manifest, error) {
	c, err := defaultClient()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), manifestTimeout)
	defer cancel()
	return c.LoadManifest(ctx)
}

// List returns the sorted names in the default manifest matching a
// path.Match-style pattern ("*_cifar10_*"); "" matches all. It returns nil
// when the manifest cannot be read; Info reports why.
func List(pattern string) []string {
	m, err := DefaultManifest()
	if err != nil {
		return nil
	}
	return m.Names(pattern)
}

// Info returns the default manifest's entry for a name or alias.
func Info(name string) (Entry, error) {
	m, err := DefaultManifest()
	if err != nil {
		return Entry{}, err
	}
	return m.Lookup(name)
}
