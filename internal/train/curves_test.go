package train

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCurvesAndProgress(t *testing.T) {
	hist := []EpochStats{
		{Epoch: 0, LR: 0.1, TrainLoss: 2.1, TestTop1: 60, TestTop5: 95, TestLoss: 1.2, Steps: 10, Images: 1280, Seconds: 2, ImagesPerSec: 640},
		{Epoch: 1, LR: 0.01, TrainLoss: 1.4, TestTop1: 70.5, TestTop5: 97, TestLoss: 0.9, Steps: 10, Images: 1280, Seconds: 2, ImagesPerSec: 640},
	}
	dir := t.TempDir()
	require.NoError(t, WriteCurvesCSV(filepath.Join(dir, "c.csv"), hist))
	f, err := os.Open(filepath.Join(dir, "c.csv"))
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 3)
	assert.Equal(t, []string{"2", "0.01", "1.4", "0.9", "70.5", "97", "10", "1280", "2", "640"}, recs[2])

	png := filepath.Join(dir, "c.png")
	require.NoError(t, WriteCurvesPNG(png, "lenet", hist))
	data, err := os.ReadFile(png)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(data, []byte("\x89PNG")))

	var buf bytes.Buffer
	p := NewProgress(&buf)
	p.StartEpoch(1, 2, 10)
	p.Update(5, 640, 1.5) // not a terminal: no per-step lines this soon
	p.EndEpoch(hist[1])
	assert.Equal(t, "epoch 2/2 lr 0.01 loss 1.4000 test top-1 70.50% top-5 97.00% 640 img/s 2s\n", buf.String())
	assert.Error(t, WriteCurvesCSV(filepath.Join(dir, "missing", "c.csv"), hist))
}

func TestCheckpointRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck.gob")
	c := &Checkpoint{Fingerprint: "f", Epoch: 3, Params: []NamedTensor{{Name: "w", Shape: []int{2}, Data: []float32{1, 2}}},
		Momentum: [][]float32{{0.5, 0.25}}, History: []EpochStats{{Epoch: 2}}}
	require.NoError(t, SaveCheckpoint(path, c))
	got, err := LoadCheckpoint(path)
	require.NoError(t, err)
	assert.Equal(t, c, got)

	live := []NamedTensor{{Name: "w", Data: make([]float32, 2)}}
	require.NoError(t, restore("parameters", live, got.Params))
	assert.Equal(t, []float32{1, 2}, live[0].Data)
	assert.ErrorIs(t, restore("parameters", []NamedTensor{{Name: "v", Data: make([]float32, 2)}}, got.Params), ErrCheckpoint)

	require.NoError(t, os.WriteFile(path, []byte("garbage"), 0o644))
	_, err = LoadCheckpoint(path)
	assert.ErrorIs(t, err, ErrCheckpoint)
}
