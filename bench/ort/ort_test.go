// Package ort benchmarks ONNX Runtime on the same ONNX file as the engine's
// benchmarks, so scripts/bench-engine.sh can print engine/ORT ratios. It is
// a separate module: the main module never depends on ONNX Runtime.
//
// ORT_LIB names libonnxruntime.so (scripts/bench-engine.sh fetches it from
// npm's onnxruntime-node@1.30.0); ZOO_BENCH_ONNX names the model, whose
// graph input is "input" (N×3×32×32) and output "logits".
package ort

import (
	"os"
	"strconv"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

func setup(b *testing.B) string {
	lib, model := os.Getenv("ORT_LIB"), os.Getenv("ZOO_BENCH_ONNX")
	if lib == "" || model == "" {
		b.Skip("set ORT_LIB and ZOO_BENCH_ONNX (scripts/bench-engine.sh does)")
	}
	if !ort.IsInitialized() {
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(); err != nil {
			b.Fatalf("initialise ONNX Runtime from %s: %v", lib, err)
		}
	}
	return model
}

func benchBatch(b *testing.B, batch int) {
	model := setup(b)
	in, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(batch), 3, 32, 32))
	if err != nil {
		b.Fatalf("input tensor: %v", err)
	}
	defer in.Destroy()
	for i, d := 0, in.GetData(); i < len(d); i++ {
		d[i] = float32(i%255)/255 - 0.5
	}
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(batch), 10))
	if err != nil {
		b.Fatalf("output tensor: %v", err)
	}
	defer out.Destroy()
	opts, err := ort.NewSessionOptions()
	if err != nil {
		b.Fatalf("session options: %v", err)
	}
	defer opts.Destroy()
	if n, _ := strconv.Atoi(os.Getenv("ORT_THREADS")); n > 0 {
		if err := opts.SetIntraOpNumThreads(n); err != nil {
			b.Fatalf("threads: %v", err)
		}
	}
	s, err := ort.NewAdvancedSession(model, []string{"input"}, []string{"logits"},
		[]ort.Value{in}, []ort.Value{out}, opts)
	if err != nil {
		b.Fatalf("session on %s: %v", model, err)
	}
	defer s.Destroy()
	if err := s.Run(); err != nil { // warm-up
		b.Fatalf("run: %v", err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Run(); err != nil {
			b.Fatalf("run: %v", err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkPreActResNet18Batch1 is single-image latency.
func BenchmarkPreActResNet18Batch1(b *testing.B) { benchBatch(b, 1) }

// BenchmarkPreActResNet18Batch64 is throughput at batch 64.
func BenchmarkPreActResNet18Batch64(b *testing.B) { benchBatch(b, 64) }
