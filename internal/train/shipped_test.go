package train

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/data"
)

// TestShippedModelsVerify re-measures every model this repository ships (its
// ONNX in the embedded weights/ store, its accuracy measured here) on the
// whole Fashion-MNIST test set through hub.Load, as `zoo-train verify` does,
// and requires the stored top-1 and top-5 exactly.
func TestShippedModelsVerify(t *testing.T) {
	if _, err := os.Stat(data.DefaultDir(data.FashionMNIST)); err != nil {
		t.Skipf("Fashion-MNIST not installed (%v); make test installs it", err)
	}
	m, err := hub.DefaultManifest()
	require.NoError(t, err)
	var names []string
	for _, e := range m.Entries() {
		if e.Weights.Size > 0 && e.Accuracy.Source == "measured" {
			names = append(names, e.Name)
		}
	}
	require.NotEmpty(t, names, "the manifest ships no measured model")
	rows, err := Verify(context.Background(), VerifyOptions{Manifest: m, Patterns: names,
		Load: []hub.Option{hub.WithCache(t.TempDir()), hub.WithProgress(nil)}})
	require.NoError(t, err)
	require.Len(t, rows, len(names))
	for _, r := range rows {
		assert.Equal(t, VerdictPass, r.Verdict, "%s: %s", r.Name, r.Reason)
		assert.Equal(t, 10000, r.Images, r.Name)
		require.NotNil(t, r.Reported, r.Name)
		assert.Equal(t, *r.Reported, r.Top1, "%s top-1", r.Name)
		if r.ReportedTop5 != nil {
			assert.Equal(t, *r.ReportedTop5, r.Top5, "%s top-5", r.Name)
		}
	}
}
