package hub

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want func(c *Client)
	}{
		{"nothing set", nil, func(*Client) {}},
		{"every variable", map[string]string{
			"ZOO_MANIFEST": "https://h/weights.json", "ZOO_STORE": "s3://b/p", "ZOO_S3_ENDPOINT": "http://s3:9000",
			"AWS_REGION": "eu-west-1", "ZOO_CACHE": "/zc", "XDG_CACHE_HOME": "/xdg", "ZOO_OFFLINE": "1",
			EnvUpstream: "http://u:p@mirror", EnvUpstreamRepeat: "3", EnvTrustNew: "1", EnvPush: "1",
		}, func(c *Client) {
			c.ManifestSource, c.StoreURI, c.S3Endpoint, c.S3Region = "https://h/weights.json", "s3://b/p", "http://s3:9000", "eu-west-1"
			c.CacheDir, c.Offline = "/zc", true
			c.Upstream = UpstreamOptions{Base: "http://u:p@mirror", Repeat: 3, TrustNew: true, Push: true}
		}},
		{"XDG_CACHE_HOME without ZOO_CACHE", map[string]string{"XDG_CACHE_HOME": "/xdg"},
			func(c *Client) { c.CacheDir = "/xdg/fmixzoo" }},
		{"ZOO_OFFLINE=0", map[string]string{"ZOO_OFFLINE": "0"}, func(*Client) {}},
		{"ZOO_OFFLINE=false", map[string]string{"ZOO_OFFLINE": "false"}, func(*Client) {}},
		{"ZOO_OFFLINE=yes", map[string]string{"ZOO_OFFLINE": "yes"}, func(c *Client) { c.Offline = true }},
		{"only 1 trusts and pushes", map[string]string{EnvTrustNew: "true", EnvPush: "yes"}, func(*Client) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range envVars {
				t.Setenv(k, tt.env[k])
			}
			got, err := FromEnv()
			require.NoError(t, err)
			require.NotNil(t, got.Importer, "FromEnv imports upstream checkpoints")
			got.Importer = nil // funcs do not compare
			want := &Client{Progress: got.Progress}
			tt.want(want)
			assert.Equal(t, want, got)
		})
	}
	for _, bad := range []string{"x", "-1", "1.5"} {
		t.Setenv(EnvUpstreamRepeat, bad)
		_, err := FromEnv()
		assert.ErrorContains(t, err, EnvUpstreamRepeat, bad)
	}
}

// The package-level functions' client follows the environment: rebuilt
// when a variable it reads changes, kept (with the manifest it read) while
// none does.
func TestDefaultClientFollowsEnv(t *testing.T) {
	for _, k := range envVars {
		t.Setenv(k, "")
	}
	a, err := defaultClient()
	require.NoError(t, err)
	b, err := defaultClient()
	require.NoError(t, err)
	assert.Same(t, a, b)
	t.Setenv("ZOO_STORE", "/elsewhere")
	c, err := defaultClient()
	require.NoError(t, err)
	assert.NotSame(t, a, c)
	assert.Equal(t, "/elsewhere", c.StoreURI)
	t.Setenv(EnvUpstreamRepeat, "nope")
	_, err = Info("lenet_fashion_fmix")
	assert.ErrorContains(t, err, EnvUpstreamRepeat, "a malformed variable is reported by every package-level call")
}

// A Client with no CacheDir caches under ~/.cache/fmixzoo.
func TestClientCacheDirDefault(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cache, err := (&Client{}).config(nil).openCache()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(home, ".cache", "fmixzoo"), cache.Dir())
}
