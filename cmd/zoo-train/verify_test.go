package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// zoo-train import --push, then zoo-train verify NAME --data DIR --synsets
// FILE (flags after the name, as users type them) on a folder-per-synset
// tree of real JPEGs: the top-1 and top-5 PyTorch computed
// (testdata/torch/gen_preprocess.py).
func TestVerifyImageNetFolderCLI(t *testing.T) {
	pre := filepath.Join(torchDir, "preprocess")
	tree := testutil.ReadImageNetTree[struct{}](t, pre)
	dir := t.TempDir()
	tree.Build(t, dir)
	store, manifest := scratchStore(t, dir)
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run([]string{"import", "--arch", "resnet18", "--width", "8", "--num-classes", "1000", "--in", filepath.Join(pre, tree.PT),
		"--out", filepath.Join(dir, "r18.onnx"), "--push", "--name", "r18_test", "--store", store, "--manifest", manifest, "--dataset", "imagenet"},
		&stdout, &stderr), stderr.String())

	t.Setenv("ZOO_STORE", "file://"+store)
	t.Setenv("ZOO_CACHE", filepath.Join(dir, "cache"))
	stdout.Reset()
	stderr.Reset()
	require.Equal(t, 0, run([]string{"verify", "r18_test", "--manifest", manifest, "--data", dir,
		"--synsets", filepath.Join(pre, tree.Synsets), "--csv", "", "--quiet"}, &stdout, &stderr), stderr.String())
	var row []string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, "r18_test ") {
			row = strings.Fields(line)
		}
	}
	require.GreaterOrEqual(t, len(row), 3, stdout.String())
	assert.Equal(t, fmt.Sprintf("%.2f", tree.Top1), row[1], "top-1")
	assert.Equal(t, fmt.Sprintf("%.2f", tree.Top5), row[2], "top-5")
	t.Log("\n" + stdout.String())

	// Without a synset list the error says what to pass.
	stderr.Reset()
	assert.Equal(t, 0, run([]string{"verify", "--manifest", manifest, "r18_test", "--data", dir, "--csv", "", "--quiet"}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "pass --synsets FILE")
}
