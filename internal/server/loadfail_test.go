package server

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panickyCatalog is a fakeCatalog whose "bad_load" panics while loading
// and whose "bad_warm" loads a model that panics in its first Run (the
// warm-up): both in the registry's own goroutine, where a panic once
// ended the process.
type panickyCatalog struct{ *fakeCatalog }

type panickyModel struct{ *fakeModel }

func (panickyModel) Run(context.Context, []float32, int) ([]float32, error) {
	panic("planted: engine bug on a crafted graph")
}

func (c panickyCatalog) Load(ctx context.Context, name string) (Model, error) {
	switch name {
	case "bad_load":
		panic("planted: decoder bug on crafted weights")
	case "bad_warm":
		return panickyModel{&fakeModel{}}, nil
	}
	return c.fakeCatalog.Load(ctx, name)
}

// TestLoadPanicIsReported: a model whose load or warm-up panics fails its
// own requests; the server lives on, serves other models, and /readyz and
// /v1/models say which model failed and why until it loads.
func TestLoadPanicIsReported(t *testing.T) {
	cat := panickyCatalog{newFakeCatalog("bad_load", "bad_warm", "good")}
	_, ts := newTestServer(t, cat, Config{})
	png := greyPNG(4, 4, 0, 0)

	for _, name := range []string{"bad_load", "bad_warm"} {
		r := do(t, "POST", ts.URL+"/v1/models/"+name+"/classify", png)
		assert.Equal(t, 500, r.status, name)
	}
	decodeClassify(t, do(t, "POST", ts.URL+"/v1/models/good/classify", png))

	ready := do(t, "GET", ts.URL+"/readyz", nil)
	require.Equal(t, 200, ready.status, "a failed model does not make the server unready")
	failed, ok := ready.json(t)["failed"].(map[string]any)
	require.True(t, ok, "readyz: %s", ready.body)
	require.Len(t, failed, 2)
	assert.Contains(t, failed["bad_load"].(map[string]any)["reason"], "planted: decoder bug")
	assert.Contains(t, failed["bad_warm"].(map[string]any)["reason"], "planted: engine bug")
	assert.NotEmpty(t, failed["bad_warm"].(map[string]any)["at"])

	models := do(t, "GET", ts.URL+"/v1/models", nil).json(t)["models"].([]any)
	require.Len(t, models, 3)
	reasons := map[string]any{}
	for _, m := range models {
		m := m.(map[string]any)
		reasons[m["name"].(string)] = m["load_error"]
	}
	assert.Nil(t, reasons["good"])
	assert.Contains(t, reasons["bad_load"].(map[string]any)["reason"], `load model "bad_load": internal error: planted`)
	one := do(t, "GET", ts.URL+"/v1/models/bad_warm", nil).json(t)
	assert.Contains(t, one["load_error"].(map[string]any)["reason"], "planted: engine bug")
	assert.Equal(t, 200, do(t, "GET", ts.URL+"/healthz", nil).status)
}

// TestLoadFailureClearedOnSuccess: once a model loads, its failure is no
// longer reported.
func TestLoadFailureClearedOnSuccess(t *testing.T) {
	cat := newFakeCatalog("m")
	cat.loadErr = assert.AnError
	_, ts := newTestServer(t, cat, Config{})
	png := greyPNG(4, 4, 0, 0)
	assert.Equal(t, 500, do(t, "POST", ts.URL+"/v1/models/m/classify", png).status)
	assert.NotNil(t, do(t, "GET", ts.URL+"/v1/models/m", nil).json(t)["load_error"])
	decodeClassify(t, do(t, "POST", ts.URL+"/v1/models/m/classify", png))
	assert.Nil(t, do(t, "GET", ts.URL+"/v1/models/m", nil).json(t)["load_error"])
	assert.Nil(t, do(t, "GET", ts.URL+"/readyz", nil).json(t)["failed"])
}
