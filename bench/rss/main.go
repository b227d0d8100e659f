// Command rss measures the engine's memory serving one model at batch 1:
// it reads an ONNX file, loads it with hub.ReadONNX, runs one batch of 1
// (the model's input shape, batch 1), nothing else, and prints the
// process's peak resident set (VmHWM):
//
//	go run ./bench/rss -model M.onnx [-heapprofile after-run.prof]
//
// prints one line:
//
//	rss model=M.onnx weights_mb=W load_peak_mb=L peak_rss_mb=P heap_after_run_mb=H
//
// weights_mb is the file's size, load_peak_mb the peak once the model is
// loaded, peak_rss_mb the peak once it has run, heap_after_run_mb the Go
// heap the model holds after the run and a collection (measured after the
// peaks, so the collection does not lower them). scripts/rss-engine.sh
// prints peak_rss_mb beside ONNX Runtime's (bench/ort/rss).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/procstat"
)

func main() {
	model := flag.String("model", "", "ONNX file")
	heap := flag.String("heapprofile", "", "write a heap profile here after the run (go tool pprof -sample_index=inuse_space or alloc_space)")
	flag.Parse()
	if err := run(*model, *heap); err != nil {
		fmt.Fprintln(os.Stderr, "rss:", err)
		os.Exit(1)
	}
}

func run(path, heapProfile string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	size := len(data)
	m, err := hub.ReadONNX(data)
	if err != nil {
		return err
	}
	data = nil
	loadPeak, err := procstat.PeakRSS()
	if err != nil {
		return err
	}
	shape := append([]int{1}, m.Info().Input.Shape...)
	n := 1
	for _, d := range shape {
		n *= d
	}
	x := hub.Tensor{Shape: shape, Data: make([]float32, n)}
	for i := range x.Data {
		x.Data[i] = float32(i%255)/255 - 0.5
	}
	if _, err := m.Run(context.Background(), x); err != nil {
		return err
	}
	peak, err := procstat.PeakRSS()
	if err != nil {
		return err
	}
	// What the model holds once the run's garbage is collected.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(m)
	if heapProfile != "" {
		f, err := os.Create(heapProfile)
		if err != nil {
			return err
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	fmt.Printf("rss model=%s weights_mb=%.0f load_peak_mb=%.0f peak_rss_mb=%.0f heap_after_run_mb=%.0f\n",
		path, mb(int64(size)), mb(loadPeak), mb(peak), mb(int64(ms.HeapAlloc)))
	return nil
}

func mb(b int64) float64 { return float64(b) / 1e6 }
