// Command rss measures the engine's memory serving one model at batch 1:
// it reads an ONNX file, loads it with hub.ReadONNX, runs one batch of 1
// (the graph input's declared shape, batch 1) and prints the process's peak
// resident set (VmHWM) and the Go heap retained after loading:
//
//	go run ./bench/rss -model M.onnx [-heapprofile after-load.prof]
//
// prints one line:
//
//	rss model=M.onnx weights_mb=W load_hwm_mb=A peak_rss_mb=P retained_mb=R
//
// weights_mb is the file's size, load_hwm_mb the peak resident set when the
// model is loaded, peak_rss_mb after the run, retained_mb the heap in use
// after loading and a GC. scripts/rss-engine.sh prints it beside ONNX
// Runtime's (bench/ort/rss) for the published architectures.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/fmixzoo/zoo/hub"
)

func main() {
	model := flag.String("model", "", "ONNX file")
	heap := flag.String("heapprofile", "", "write a heap profile here after the run (go tool pprof -sample_index=inuse_space)")
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
	loadHWM := vmHWM()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	in := m.Info().Input.Shape
	shape := append([]int{1}, in...)
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
	fmt.Printf("rss model=%s weights_mb=%.0f load_hwm_mb=%.0f peak_rss_mb=%.0f retained_mb=%.0f\n",
		path, mb(int64(size)), mb(loadHWM), mb(vmHWM()), mb(int64(ms.HeapInuse)))
	return nil
}

func mb(b int64) float64 { return float64(b) / 1e6 }

// vmHWM is the process's peak resident set in bytes (Linux), or 0.
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
