package engine

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fmixzoo/zoo/zoo"
	"github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

// Benchmarks. scripts/bench-engine.sh runs them beside ONNX Runtime
// (module bench/ort) on the same file and prints the ratios:
//
//	BenchmarkPreActResNet18/batch=1    latency of the full-size FMix PreAct-ResNet18 (32×32)
//	BenchmarkPreActResNet18/batch=64   throughput; reports peak RSS of the process
//	BenchmarkPreActResNet18Zoo/{engine,gorgonnx}
//	                                   batch 1 on the zoo's own export of the same
//	                                   architecture, which stock onnx-go (gorgonnx) can
//	                                   run (PyTorch's export needs Shape, Pad, ...)
//	BenchmarkMNIST/{engine,gorgonnx}   batch 1 on the CNTK MNIST model
//
// The PreAct-ResNet18 file is ZOO_BENCH_ONNX, else
// testdata/torch/bench/preact_resnet18_full.onnx (gen.py --bench writes it).

func benchModelPath(b *testing.B) string {
	path := os.Getenv("ZOO_BENCH_ONNX")
	if path == "" {
		path = filepath.Join("..", "testdata", "torch", "bench", "preact_resnet18_full.onnx")
	}
	if _, err := os.Stat(path); err != nil {
		b.Skipf("no benchmark model (%v): run scripts/bench-engine.sh or testdata/torch/gen.py --bench", err)
	}
	return path
}

func BenchmarkPreActResNet18(b *testing.B) {
	data, err := os.ReadFile(benchModelPath(b))
	require.NoError(b, err)
	m, err := Read(data)
	require.NoError(b, err)
	for _, batch := range []int{1, 64} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			benchRuns(b, m, []int{batch, 3, 32, 32})
			if rss := peakRSS(); rss > 0 {
				b.ReportMetric(float64(rss)/(1<<20), "peakRSS-MB")
			}
		})
	}
}

// benchArchs are the five published architectures at their published
// input sizes (random-weight PyTorch exports under testdata/torch/bench/,
// written by scripts/rss-engine.sh or testdata/torch/gen.py) and the batch
// sizes issue 19 measures: batch 1 latency and a batch-N throughput.
var benchArchs = []struct {
	name    string
	shape   []int // C, H, W
	batches []int
}{
	{"preact_resnet18_full", []int{3, 32, 32}, []int{1, 64}},
	{"resnet101_full", []int{3, 224, 224}, []int{1, 8}},
	{"pyramidnet272_full", []int{3, 32, 32}, []int{1, 16}},
	{"wrn28_10_full", []int{3, 32, 32}, []int{1, 16}},
	{"densenet_bc190_full", []int{3, 32, 32}, []int{1, 16}},
}

// BenchmarkArch times Run on each published architecture whose file is
// present (the others are skipped, saying so): BenchmarkArch/NAME/batch=N.
// The input is the same deterministic ramp as BenchmarkPreActResNet18's.
func BenchmarkArch(b *testing.B) {
	dir := filepath.Join("..", "testdata", "torch", "bench")
	for _, a := range benchArchs {
		b.Run(a.name, func(b *testing.B) {
			data, err := os.ReadFile(filepath.Join(dir, a.name+".onnx"))
			if err != nil {
				b.Skipf("no benchmark model (%v): run scripts/rss-engine.sh", err)
			}
			m, err := Read(data)
			require.NoError(b, err)
			for _, batch := range a.batches {
				b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
					benchRuns(b, m, append([]int{batch}, a.shape...))
				})
			}
		})
	}
}

// benchRuns times m.Run on an input of the shape (batch first) filled with
// a deterministic ramp, after one untimed run that compiles the plan, and
// reports images per second.
func benchRuns(b *testing.B, m *Model, shape []int) {
	in := Tensor{Shape: shape, Data: make([]float32, shapeSize(shape))}
	for i := range in.Data {
		in.Data[i] = float32(i%255)/255 - 0.5
	}
	ctx := context.Background()
	_, err := m.Run(ctx, in) // compile for this batch size
	require.NoError(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*shape[0])/b.Elapsed().Seconds(), "img/s")
}

func mnistInput(b *testing.B) []float32 {
	_, dir := cntkMNIST(b)
	in := readTensorPB(b, filepath.Join(dir, "test_data_set_0", "input_0.pb"))
	return in.Floats
}

func BenchmarkMNIST(b *testing.B) {
	model, _ := cntkMNIST(b)
	x := mnistInput(b)
	b.Run("engine", func(b *testing.B) {
		m, err := Read(model)
		require.NoError(b, err)
		in := Tensor{Shape: []int{1, 1, 28, 28}, Data: x}
		for i := 0; i < b.N; i++ {
			if _, err := m.Run(context.Background(), in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gorgonnx", func(b *testing.B) {
		backend := gorgonnx.NewGraph()
		m := onnx.NewModel(backend)
		require.NoError(b, m.UnmarshalBinary(model))
		for i := 0; i < b.N; i++ {
			require.NoError(b, m.SetInput(0, tensor.New(tensor.WithShape(1, 1, 28, 28), tensor.WithBacking(x))))
			if err := backend.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPreActResNet18Zoo times the engine and stock onnx-go (gorgonnx) at
// batch 1 on zoo.Build("preact_resnet18") exported by ExportONNX (full size,
// 32×32, 10 classes; only Conv, BatchNormalization, Relu, Add,
// GlobalAveragePool, Flatten and Gemm). It first checks that both give the
// same logits.
func BenchmarkPreActResNet18Zoo(b *testing.B) {
	net, err := zoo.Build("preact_resnet18", zoo.Args{})
	require.NoError(b, err)
	var buf bytes.Buffer
	require.NoError(b, net.ExportONNX(&buf, nil))
	model := buf.Bytes()
	x := make([]float32, 3*32*32)
	for i := range x {
		x[i] = float32(i%255)/255 - 0.5
	}

	m, err := Read(model)
	require.NoError(b, err)
	in := Tensor{Shape: []int{1, 3, 32, 32}, Data: x}
	want, err := m.Run(context.Background(), in)
	require.NoError(b, err)

	backend := gorgonnx.NewGraph()
	gm := onnx.NewModel(backend)
	require.NoError(b, gm.UnmarshalBinary(model), "gorgonnx decodes the zoo export")
	gorgonnxRun := func() error {
		if err := gm.SetInput(0, tensor.New(tensor.WithShape(1, 3, 32, 32), tensor.WithBacking(x))); err != nil {
			return err
		}
		return backend.Run()
	}
	require.NoError(b, gorgonnxRun(), "gorgonnx runs the zoo export")
	outs, err := gm.GetOutputTensors()
	require.NoError(b, err)
	require.Len(b, outs, 1)
	got, ok := outs[0].Data().([]float32)
	require.True(b, ok, "gorgonnx output is float32")
	require.Len(b, got, len(want[0].Data))
	maxAbs := 0.0
	for _, v := range want[0].Data {
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
	}
	for i, v := range want[0].Data {
		require.InDelta(b, v, got[i], 1e-4*math.Max(1, maxAbs), "logit %d: engine vs gorgonnx", i)
	}

	b.Run("engine", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := m.Run(context.Background(), in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gorgonnx", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := gorgonnxRun(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
