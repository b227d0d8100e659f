package engine

import (
	"bytes"
	"context"
	"math"
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/fmixzoo/zoo/zoo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemoryPerWeight bounds, in multiples of the ONNX file's size (its
// weights), what Read allocates, what the model holds after Read, and what
// it holds after a first Run at batch 1, on small zoo exports of the
// architectures whose serving memory mattered (issue 19; bench/rss
// measures the full-size ones). The bounds leave room above what the
// engine does now (before the fixes in brackets):
//
//	                          Read allocates   holds         after a run
//	preact_resnet18 width 32  1.5x (8.0x)      1.0x (1.4x)   2.3x (5.4x)
//	pyramidnet 56, α 84       2.4x (7.9x)      1.0x (2.1x)   5.0x (9.5x)
//	densenet_bc 40, k 24      1.9x (7.1x)      1.1x (1.5x)   3.7x (7.7x)
//
// Read allocated onnx-go's decoding of every initializer (raw bytes, then
// float32 slices grown by append) and the engine's copy of it, and kept
// the weights and BatchNormalization parameters it had folded beside the
// folded copies; the first Run copied the weights into each
// kernels.PackedConv and packed them for every microkernel, and its arena
// kept every buffer the growing layers outgrew.
func TestMemoryPerWeight(t *testing.T) {
	for _, c := range []struct {
		arch                      string
		args                      zoo.Args
		readAllocs, kept, runKept float64
	}{
		{"preact_resnet18", zoo.Args{NumClasses: 10, NC: 3, Width: 32}, 3, 1.25, 3},
		{"pyramidnet", zoo.Args{NumClasses: 10, NC: 3, Depth: 56, Alpha: 84}, 3, 1.25, 6},
		{"densenet_bc", zoo.Args{NumClasses: 10, NC: 3, Depth: 40, Growth: 24}, 3, 1.25, 4.5},
	} {
		t.Run(c.arch, func(t *testing.T) {
			data := exportZoo(t, c.arch, c.args)
			size := float64(len(data))
			before := settledHeap()
			m, err := Read(data)
			require.NoError(t, err)
			read := settledHeap()
			_, err = m.Run(context.Background(), Tensor{Shape: []int{1, 3, 32, 32}, Data: make([]float32, 3*32*32)})
			require.NoError(t, err)
			run := settledHeap()
			runtime.KeepAlive(data)
			runtime.KeepAlive(m)

			allocs := float64(read.TotalAlloc-before.TotalAlloc) / size
			kept := (float64(read.HeapAlloc) - float64(before.HeapAlloc)) / size
			runKept := (float64(run.HeapAlloc) - float64(before.HeapAlloc)) / size
			t.Logf("%.1f MB file: Read allocates %.2fx and the model holds %.2fx, after a run at batch 1 %.2fx",
				size/1e6, allocs, kept, runKept)
			assert.LessOrEqual(t, allocs, c.readAllocs, "Read allocates")
			assert.LessOrEqual(t, kept, c.kept, "the model holds after Read")
			assert.LessOrEqual(t, runKept, c.runKept, "the model holds after a run")
		})
	}
}

// settledHeap is runtime.MemStats after garbage collections until the
// heap stops shrinking: an earlier model's tape machine has a finalizer,
// so its memory is freed a collection after it becomes garbage.
func settledHeap() runtime.MemStats {
	var ms runtime.MemStats
	last := uint64(math.MaxUint64)
	for range 10 {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc >= last {
			break
		}
		last = ms.HeapAlloc
		time.Sleep(time.Millisecond) // the finalizers run on their own goroutine
	}
	return ms
}

// exportZoo is zoo.Build(arch, args) exported to ONNX, random weights.
func exportZoo(t *testing.T, arch string, args zoo.Args) []byte {
	net, err := zoo.Build(arch, args)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, net.ExportONNX(&buf, nil))
	return buf.Bytes()
}

// TestFirstRunCollectsTheModelBytes: the first Run of a model of more than
// collectBeforeCompile bytes of weights collects garbage before compiling,
// so the bytes Read decoded, dropped by the caller, are not in memory while
// the plan packs its weights (see Model.plan).
func TestFirstRunCollectsTheModelBytes(t *testing.T) {
	data := exportZoo(t, "preact_resnet18", zoo.Args{NumClasses: 10, NC: 3, Width: 32})
	m, err := Read(data)
	require.NoError(t, err)
	require.GreaterOrEqual(t, m.g.constBytes, collectBeforeCompile)
	bytesRead := weak.Make(&data[0])
	data = nil
	_, err = m.Run(context.Background(), Tensor{Shape: []int{1, 3, 32, 32}, Data: make([]float32, 3*32*32)})
	require.NoError(t, err)
	assert.Nil(t, bytesRead.Value(), "the model's bytes are still in memory after its first run")
}
