package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/attack"
	"github.com/fmixzoo/zoo/internal/data"
	"github.com/fmixzoo/zoo/internal/testutil"
)

// A short sweep of the shipped lenet_fashion_baseline on 64 Fashion-MNIST
// test images: the CSV is well-formed, ε = 0 gives the error rate the hub's
// ONNX engine measures on the same images (an independent path), and the
// gradient attacks' success does not fall as ε grows; the plot is a PNG.
func TestRobustnessCommand(t *testing.T) {
	if _, err := os.Stat(fashionTestImages); err != nil {
		t.Skipf("Fashion-MNIST is not installed (scripts/install-test-deps.sh): %v", err)
	}
	t.Setenv("ZOO_CACHE", t.TempDir())
	out := t.TempDir()
	const limit = 64
	var stdout, stderr bytes.Buffer
	err := runRobustness(context.Background(), []string{"lenet_fashion_baseline", "--limit", "64",
		"--eps", "0,0.02,0.1", "--out", out, "--data", "fashion_mnist"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Contains(t, stdout.String(), "lenet_fashion_baseline (64 images")

	f, err := os.Open(filepath.Join(out, "robustness.csv"))
	require.NoError(t, err)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	require.NoError(t, err)
	require.Equal(t, attack.CSVHeader, rows[0])
	require.Len(t, rows, 1+5*3)
	rate := map[string]map[float64]float64{}
	success := map[string]map[float64]int{}
	for _, r := range rows[1:] {
		assert.Equal(t, "lenet_fashion_baseline", r[0])
		eps, err := strconv.ParseFloat(r[2], 64)
		require.NoError(t, err)
		p, err := strconv.ParseFloat(r[3], 64)
		require.NoError(t, err)
		s, err := strconv.Atoi(r[4])
		require.NoError(t, err)
		n, err := strconv.Atoi(r[5])
		require.NoError(t, err)
		sec, err := strconv.ParseFloat(r[6], 64)
		require.NoError(t, err)
		assert.Equal(t, limit, n)
		assert.InDelta(t, float64(s)/float64(n), p, 1e-6)
		assert.GreaterOrEqual(t, sec, 0.0)
		if rate[r[1]] == nil {
			rate[r[1]], success[r[1]] = map[float64]float64{}, map[float64]int{}
		}
		rate[r[1]][eps], success[r[1]][eps] = p, s
	}
	assert.ElementsMatch(t, attack.AllAttacks, robustnessKeys(rate))

	// The clean error through the hub's engine, on the same images.
	model, err := hub.Load("lenet_fashion_baseline")
	require.NoError(t, err)
	ds, err := data.Open("fashion_mnist", "", data.TestSplit)
	require.NoError(t, err)
	wrong := 0
	for i := range limit {
		ex, err := ds.Example(i)
		require.NoError(t, err)
		x, err := model.Preprocess(data.ExampleImage(ex))
		require.NoError(t, err)
		o, err := model.Run(context.Background(), hub.Tensor{Shape: append([]int{1}, model.Info().Input.Shape...), Data: x})
		require.NoError(t, err)
		if hub.TopK(o[0].Data, nil, 1)[0].Index != ex.Label {
			wrong++
		}
	}
	for _, a := range attack.AllAttacks {
		assert.Equal(t, wrong, success[a][0], "%s at ε = 0 is the clean error", a)
	}
	for _, a := range []string{attack.NameFGSM, attack.NamePGD, attack.NameBIM, attack.NameDeepFool} {
		assert.GreaterOrEqual(t, rate[a][0.02], rate[a][0], a)
		assert.GreaterOrEqual(t, rate[a][0.1], rate[a][0.02], a)
		assert.Greater(t, rate[a][0.1], rate[a][0], "%s at ε = 0.1 fools the model more often", a)
	}
	// The iterative attacks are at least as strong as one step, here.
	assert.GreaterOrEqual(t, rate[attack.NamePGD][0.1], rate[attack.NameFGSM][0.1])

	img, format := testutil.DecodeFile(t, filepath.Join(out, "robustness.png"))
	require.Equal(t, "png", format)
	assert.Greater(t, img.Bounds().Dx(), 1000)

	// --append keeps the baseline's rows and adds another model's.
	stdout.Reset()
	err = runRobustness(context.Background(), []string{"lenet_fashion_mixup", "--limit", "8", "--attacks", "fgsm",
		"--eps", "0.1", "--out", out, "--append", "--quiet"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	f, err = os.Open(filepath.Join(out, "robustness.csv"))
	require.NoError(t, err)
	merged, err := attack.ReadCSV(f)
	f.Close()
	require.NoError(t, err)
	require.Len(t, merged, 2)
	assert.Equal(t, "lenet_fashion_baseline", merged[0].Model)
	assert.Len(t, merged[0].Results, 15)
	assert.Equal(t, "lenet_fashion_mixup", merged[1].Model)
	require.Len(t, merged[1].Results, 1)
	assert.Equal(t, 8, merged[1].Results[0].N)

	// A sweep run in pieces gives the whole sweep's counts: the first piece
	// (FGSM) is saved when its attack ends, --append skips it and runs the
	// rest (four batches on three model copies: the counts depend on the
	// batch size, not on the workers), and a third run finds nothing left.
	readCSV := func(dir string) []attack.ModelResults {
		f, err := os.Open(filepath.Join(dir, "robustness.csv"))
		require.NoError(t, err)
		defer f.Close()
		all, err := attack.ReadCSV(f)
		require.NoError(t, err)
		return all
	}
	sweep := func(dir string, args ...string) {
		common := []string{"lenet_fashion_baseline", "--limit", "64", "--batch", "16", "--eps", "0,0.02,0.1", "--out", dir, "--quiet", "--data", "fashion_mnist"}
		require.NoError(t, runRobustness(context.Background(), append(common, args...), &stdout, &stderr), stderr.String())
	}
	oneShot, pieces := t.TempDir(), t.TempDir()
	sweep(oneShot)
	want := readCSV(oneShot)
	sweep(pieces, "--attacks", "fgsm")
	first := readCSV(pieces)
	require.Len(t, first, 1)
	require.Len(t, first[0].Results, 3)
	sweep(pieces, "--append", "--workers", "3")
	whole := readCSV(pieces)
	require.Len(t, whole, 1)
	require.Len(t, whole[0].Results, 15)
	assert.Equal(t, first[0].Results, whole[0].Results[:3], "FGSM was not run again")
	for i, r := range whole[0].Results {
		assert.Equal(t, want[0].Results[i].Success, r.Success, "%s at ε = %g in pieces", r.Attack, r.Epsilon)
	}
	stdout.Reset()
	sweep(pieces, "--append")
	assert.Contains(t, stdout.String(), "already in")
	assert.Equal(t, whole, readCSV(pieces))

	// Stopped inside PGD after two of its four batches (as a killed
	// process would be, the state saved), --append attacks only the two
	// left and the CSV equals the one-shot sweep's; the state file is gone.
	stopped := t.TempDir()
	statePath := filepath.Join(stopped, "robustness.partial.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sweepBatchHook = func(_ string, p attack.Partial) {
		if p.Attack == attack.NamePGD && len(p.Done) == 2 {
			cancel()
		}
	}
	defer func() { sweepBatchHook = nil }()
	common := []string{"lenet_fashion_baseline", "--limit", "64", "--batch", "16", "--eps", "0,0.02,0.1", "--out", stopped, "--quiet", "--data", "fashion_mnist"}
	err = runRobustness(ctx, common, &stdout, &stderr)
	require.ErrorIs(t, err, context.Canceled)
	assert.Len(t, readCSV(stopped)[0].Results, 3, "FGSM finished")
	require.FileExists(t, statePath)
	var pgdBatches []int
	sweepBatchHook = func(_ string, p attack.Partial) {
		if p.Attack == attack.NamePGD {
			pgdBatches = append(pgdBatches, len(p.Done))
		}
	}
	stderr.Reset()
	require.NoError(t, runRobustness(context.Background(), append(common, "--append"), &stdout, &stderr), stderr.String())
	assert.Contains(t, stderr.String(), "pgd resumes after 2 of 4 batches")
	assert.Equal(t, []int{3, 4}, pgdBatches, "PGD's first two batches were not attacked again")
	resumed := readCSV(stopped)
	require.Len(t, resumed[0].Results, 15)
	for i, r := range resumed[0].Results {
		assert.Equal(t, want[0].Results[i].Success, r.Success, "%s at ε = %g resumed", r.Attack, r.Epsilon)
	}
	assert.NoFileExists(t, statePath)

	// A damaged state file is an error that names it.
	require.NoError(t, os.WriteFile(statePath, []byte("{not json"), 0o644))
	err = runRobustness(context.Background(), append(common, "--append"), &stdout, &stderr)
	assert.ErrorContains(t, err, statePath)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no names", []string{"--limit", "1"}, "no model names"},
		{"unknown model", []string{"no_such_*"}, "no model matches"},
		{"bad attack", []string{"lenet_fashion_baseline", "--attacks", "fgsm,cw"}, `unknown attack "cw"`},
		{"bad eps", []string{"lenet_fashion_baseline", "--eps", "0,x"}, `"x" is not a number`},
		{"eps above 1", []string{"lenet_fashion_baseline", "--eps", "2"}, "in [0, 1]"},
		{"bad data", []string{"lenet_fashion_baseline", "--data", "/no/such/dir"}, "neither a dataset name nor a directory"},
		{"bad batch", []string{"lenet_fashion_baseline", "--batch", "0"}, "--batch 0"},
		{"bad workers", []string{"lenet_fashion_baseline", "--workers", "0"}, "--workers 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o, e bytes.Buffer
			err := runRobustness(context.Background(), append(tc.args, "--out", t.TempDir()), &o, &e)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func robustnessKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
