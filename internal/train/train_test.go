package train

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fmixzoo "github.com/fmixzoo/zoo"
	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/data"
	"github.com/fmixzoo/zoo/internal/testutil"
)

// requireFashion skips (outside CI) or fails (under CI) without the Debian
// Fashion-MNIST package.
func requireFashion(t *testing.T) {
	t.Helper()
	testutil.NeedFile(t, data.DefaultDir(data.FashionMNIST))
}

// smokeConfig is a short real run: LeNet on Fashion-MNIST.
func smokeConfig(mode string) Config {
	c := DefaultConfig()
	c.Arch, c.Dataset = "lenet", data.FashionMNIST
	c.Epochs, c.BatchSize, c.StepsPerEpoch = 3, 64, 50
	c.LR = 0.05
	c.TestLimit = 500
	c.MSDA.Mode = mode
	c.Seed = 7
	c.Workers = 2
	return c
}

func TestTrainEachMSDAMode(t *testing.T) {
	requireFashion(t)
	for _, mode := range []string{"none", "mixup", "cutmix", "fmix", "fmixplusmixup"} {
		t.Run(mode, func(t *testing.T) {
			res, err := Train(context.Background(), smokeConfig(mode), nil)
			require.NoError(t, err)
			require.Len(t, res.History, 3)
			assert.Equal(t, 150, res.Steps)
			first, last := res.History[0], res.History[2]
			assert.Less(t, last.TrainLoss, first.TrainLoss, "loss falls")
			assert.Greater(t, last.TestTop1, 40.0, "well above chance (10%%) after 150 steps")
			assert.GreaterOrEqual(t, last.TestTop5, last.TestTop1)
		})
	}
}

func TestTrainResumeIsExact(t *testing.T) {
	requireFashion(t)
	dir := t.TempDir()
	cfg := smokeConfig("fmix")
	cfg.Epochs, cfg.StepsPerEpoch = 2, 10
	straight, err := Train(context.Background(), cfg, nil)
	require.NoError(t, err)

	cfg.Checkpoint, cfg.Resume, cfg.CurvesDir = filepath.Join(dir, "ck.gob"), true, dir
	cfg.Epochs = 1
	_, err = Train(context.Background(), cfg, nil)
	require.NoError(t, err)
	cfg.Epochs = 2
	resumed, err := Train(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.Equal(t, 2, resumed.Epochs)
	assert.Equal(t, straight.History[1].TrainLoss, resumed.History[1].TrainLoss)
	for i, p := range straight.Net.Params() {
		require.Equal(t, p.Value, resumed.Net.Params()[i].Value, p.Name)
	}
	for _, f := range []string{"curves.csv", "curves.png"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Positive(t, st.Size())
	}

	// Other settings refuse the checkpoint.
	cfg.LR = 0.01
	_, err = Train(context.Background(), cfg, nil)
	assert.ErrorIs(t, err, ErrCheckpoint)
}

func TestPublishToS3AndVerify(t *testing.T) {
	requireFashion(t)
	store := startS3(t)
	ctx := context.Background()
	cfg := smokeConfig("fmix") // 75 steps: one epoch of 25 FMix steps is not yet above 40%
	res, err := Train(ctx, cfg, nil)
	require.NoError(t, err)

	manifest := filepath.Join(t.TempDir(), "weights.json")
	require.NoError(t, os.WriteFile(manifest, fmixzoo.Manifest, 0o644))
	base, err := hub.ParseManifest(fmixzoo.Manifest)
	require.NoError(t, err)
	labels := base.LabelSet(data.FashionMNIST)
	e, err := Publish(ctx, res, PublishOptions{Name: "lenet_fashion_test", Store: store, Manifest: manifest,
		Labels: labels, LabelSet: data.FashionMNIST, CommandLine: []string{"zoo-train", "train"}, GitCommit: "abc"})
	require.NoError(t, err)
	require.NotNil(t, e.Accuracy.Top1)
	assert.Greater(t, *e.Accuracy.Top1, 40.0)
	assert.Contains(t, e.Accuracy.Provenance, "t10k-images-idx3-ubyte.gz sha256:")
	info, err := store.Stat(ctx, "lenet_fashion_test.onnx")
	require.NoError(t, err)
	assert.Equal(t, e.Weights.Size, info.Size)

	m, err := hub.ReadManifest(ctx, manifest, nil)
	require.NoError(t, err)
	load := []hub.Option{hub.WithStore(store), hub.WithCache(t.TempDir()), hub.WithProgress(nil)}
	rows, err := Verify(ctx, VerifyOptions{Manifest: m, Patterns: []string{"*_fashion_test", "preact_resnet18_cifar10_fmix"},
		Tolerance: 0.1, Load: load, DataDir: ""})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	byName := map[string]VerifyRow{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	got := byName["lenet_fashion_test"]
	assert.Equal(t, VerdictPass, got.Verdict, got.Reason)
	assert.Equal(t, *e.Accuracy.Top1, got.Top1, "reproduced exactly")
	assert.Zero(t, got.Delta)
	assert.Equal(t, VerdictSkipped, byName["preact_resnet18_cifar10_fmix"].Verdict)
	assert.Contains(t, byName["preact_resnet18_cifar10_fmix"].Reason, "dataset not present")

	// A measured accuracy off by a hundredth of a point fails.
	off := *e.Accuracy.Top1 + 0.01
	e.Accuracy.Top1 = &off
	require.NoError(t, hub.UpsertManifestEntry(manifest, e))
	m, err = hub.ReadManifest(ctx, manifest, nil)
	require.NoError(t, err)
	rows, err = Verify(ctx, VerifyOptions{Manifest: m, Patterns: []string{"lenet_fashion_test"}, Tolerance: 0.1, Load: load})
	require.ErrorIs(t, err, ErrVerifyFailed)
	assert.Equal(t, VerdictFail, rows[0].Verdict)
}
