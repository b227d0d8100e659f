package main

import (
	"bytes"
	"context"
	"flag"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlagsDefaults(t *testing.T) {
	o, err := parseFlags(nil, func(string) string { return "" }, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", o.addr)
	assert.Equal(t, 32, o.cfg.MaxBatch)
	assert.Equal(t, 2*time.Millisecond, o.cfg.BatchDelay)
	assert.Equal(t, int64(16<<20), o.cfg.MaxBody)
	assert.Equal(t, int64(40_000_000), o.cfg.MaxPixels)
	assert.Equal(t, 30*time.Second, o.shutdownTimeout)
	assert.Empty(t, o.cfg.Models)
	assert.Empty(t, o.cfg.Token)
}

func TestFlagsEnvFallbacks(t *testing.T) {
	env := map[string]string{
		"ZOO_ADDR": "0.0.0.0:9000", "ZOO_STORE": "s3://bucket/zoo", "ZOO_CACHE": "/tmp/c", "ZOO_TOKEN": "tok",
		"ZOO_MODELS": "a, b,", "ZOO_MAX_BATCH": "8", "ZOO_BATCH_DELAY": "5ms", "ZOO_MAX_BODY": "1MiB",
		"ZOO_OFFLINE": "1", "ZOO_SHUTDOWN_TIMEOUT": "3s", "ZOO_DECODE_MEMORY": "256MiB", "ZOO_MAX_JPEG_SCANS": "20",
		"ZOO_MAX_CONNS": "64", "ZOO_READ_TIMEOUT": "7s",
	}
	o, err := parseFlags([]string{"--max-batch", "16"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0:9000", o.addr)
	assert.Equal(t, "s3://bucket/zoo", o.store)
	assert.Equal(t, "/tmp/c", o.cache)
	assert.Equal(t, "tok", o.cfg.Token)
	assert.Equal(t, []string{"a", "b"}, o.cfg.Models)
	assert.Equal(t, 16, o.cfg.MaxBatch, "the flag wins over the environment")
	assert.Equal(t, 5*time.Millisecond, o.cfg.BatchDelay)
	assert.Equal(t, int64(1<<20), o.cfg.MaxBody)
	assert.True(t, o.offline)
	assert.Equal(t, 3*time.Second, o.shutdownTimeout)
	assert.Equal(t, int64(256<<20), o.cfg.DecodeMemory)
	assert.Equal(t, 20, o.cfg.MaxJPEGScans)
	assert.Equal(t, 64, o.cfg.MaxConns)
	assert.Equal(t, 7*time.Second, o.cfg.ReadTimeout)
}

func TestFlagsErrors(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		msg  string
	}{
		{[]string{"--max-body", "lots"}, nil, "want a size"},
		{nil, map[string]string{"ZOO_MAX_BATCH": "many"}, "ZOO_MAX_BATCH"},
		{[]string{"extra"}, nil, "unexpected arguments"},
		{[]string{"--nope"}, nil, "not defined"},
	}
	for _, tt := range tests {
		_, err := parseFlags(tt.args, func(k string) string { return tt.env[k] }, &bytes.Buffer{})
		assert.ErrorContains(t, err, tt.msg, "%v %v", tt.args, tt.env)
	}
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	_, err := parseFlags([]string{"-h"}, func(string) string { return "" }, &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	for _, want := range []string{"ZOO_ADDR", "ZOO_STORE", "ZOO_CACHE", "ZOO_TOKEN", "ZOO_MANIFEST", "ZOO_MODELS",
		"ZOO_MAX_MODELS", "ZOO_MAX_BATCH", "ZOO_BATCH_DELAY", "ZOO_MAX_BODY", "ZOO_MAX_PIXELS", "ZOO_SHUTDOWN_TIMEOUT",
		"ZOO_DECODE_MEMORY", "ZOO_MAX_DECODES", "ZOO_MAX_JPEG_SCANS", "ZOO_MAX_CONNS", "ZOO_READ_TIMEOUT",
		"-addr", "-max-batch", "-batch-delay", "-shutdown-timeout", "127.0.0.1:8080"} {
		assert.Contains(t, out.String(), want)
	}
}

func TestRunFailsWhenPreloadFails(t *testing.T) {
	t.Setenv("ZOO_MANIFEST", "")
	var log bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, []string{"--addr", "127.0.0.1:0", "--models", "no_such_model", "--cache", t.TempDir()}, &log)
	require.ErrorContains(t, err, `unknown model "no_such_model"`)
	assert.Contains(t, log.String(), "msg=listening")
}
