// Command rss is bench/rss's counterpart for ONNX Runtime: it loads an ONNX
// file into an ORT session (-threads intra-op threads), runs one batch of 1
// of -shape (C,H,W) through it and prints the process's peak resident set
// (VmHWM):
//
//	go run ./rss -lib lib/libonnxruntime.so.1 -model M.onnx -shape 3,224,224 [-threads 2]
//
// The model's input is "input" and its output "logits", as
// testdata/torch/gen.py exports them. The shape is a flag, not read from
// the file: ort.GetInputOutputInfo loads the whole model into a session of
// its own, and the C heap keeps what it freed, so the figure would count
// the weights twice.
//
// prints one line:
//
//	rss-ort model=M.onnx peak_rss_mb=P
//
// scripts/rss-engine.sh prints it beside the engine's.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/fmixzoo/zoo/internal/procstat"
	ort "github.com/yalue/onnxruntime_go"
)

func main() {
	lib := flag.String("lib", "", "path of libonnxruntime.so")
	model := flag.String("model", "", "ONNX model: input \"input\" (N×C×H×W, N dynamic), output \"logits\"")
	shape := flag.String("shape", "3,32,32", "the input's C,H,W")
	threads := flag.Int("threads", 2, "intra-op threads")
	flag.Parse()
	if err := run(*lib, *model, *shape, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "rss-ort:", err)
		os.Exit(1)
	}
}

func run(lib, model, shape string, threads int) error {
	if lib == "" || model == "" {
		return errors.New("-lib and -model are required")
	}
	inShape := ort.NewShape(1)
	for _, f := range strings.Split(shape, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || d < 1 {
			return fmt.Errorf("-shape %q: want positive integers C,H,W", shape)
		}
		inShape = append(inShape, int64(d))
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(); err != nil {
		return fmt.Errorf("initialise ONNX Runtime from %s: %w", lib, err)
	}
	defer ort.DestroyEnvironment()
	x := make([]float32, inShape.FlattenedSize())
	for i := range x {
		x[i] = float32(i%255)/255 - 0.5 // bench/rss's input
	}
	in, err := ort.NewTensor(inShape, x)
	if err != nil {
		return fmt.Errorf("input tensor: %w", err)
	}
	defer in.Destroy()
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return fmt.Errorf("session options: %w", err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		return fmt.Errorf("intra-op threads %d: %w", threads, err)
	}
	s, err := ort.NewDynamicAdvancedSession(model, []string{"input"}, []string{"logits"}, opts)
	if err != nil {
		return fmt.Errorf("session on %s: %w", model, err)
	}
	defer s.Destroy()
	outs := []ort.Value{nil} // ORT allocates the logits
	if err := s.Run([]ort.Value{in}, outs); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	defer outs[0].Destroy()
	peak, err := procstat.PeakRSS()
	if err != nil {
		return err
	}
	fmt.Printf("rss-ort model=%s peak_rss_mb=%.0f\n", model, float64(peak)/1e6)
	return nil
}
