// Command ort times ONNX Runtime on the same ONNX file as the engine's
// benchmarks, so scripts/bench-engine.sh can print engine/ORT ratios. It is
// its own module: the main module never depends on ONNX Runtime.
//
//	go run . -lib lib/libonnxruntime.so.1 -model M.onnx [-threads 2] [-batches 1,64] [-min 3s]
//	         [-check-input M.input.f32 -check-logits M.logits.f32]
//
// The model's graph input is "input" (N×C×H×W, -shape C,H,W: 3,32,32 by
// default) and its output "logits"
// (N×classes). Each batch size gets its own session, one untimed warm-up run,
// then runs until -min has passed (at least 3). It prints one line per batch
// size:
//
//	batch=1 runs=N ns/op=X img/s=Y
//
// With -check-input/-check-logits (raw float32, as testdata/torch/gen.py
// writes them) it first runs that batch and prints the largest difference
// from the recorded logits, failing when it exceeds 1e-4 × max(1, |max logit|).
//
// With -profile PREFIX, ONNX Runtime's own profiler records every run and
// writes its trace when the session ends; -profile-summary FILE then prints
// the time per operator and output shape, per run:
//
//	go run . -lib … -model M.onnx -batches 1 -min 2s -profile /tmp/ort
//	go run . -profile-summary /tmp/ort_2026-….json
//
// With -paired N it instead loads the model into the engine too and runs the
// two in turn in this process, N pairs of blocks of -block runs at the first
// of -batches (see paired.go), printing both sides' run-time quantiles and
// one summary line:
//
//	paired-summary batch=1 engine_min=… ort_min=… engine_median=… ort_median=… block_ratio_median=… engine_faster_blocks=K/N
//
// -control engine (or ort) pairs that side with a second copy of itself: the
// method's own bias, which should read 1.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

func main() {
	lib := flag.String("lib", "", "path of libonnxruntime.so")
	model := flag.String("model", "", "ONNX model (input \"input\" N×C×H×W, output \"logits\")")
	shape := flag.String("shape", "3,32,32", "the input's C,H,W")
	threads := flag.Int("threads", 2, "intra-op threads")
	batches := flag.String("batches", "1,64", "comma-separated batch sizes")
	minTime := flag.Duration("min", 3*time.Second, "minimum timed duration per batch size")
	checkIn := flag.String("check-input", "", "raw float32 input to check the logits of")
	checkOut := flag.String("check-logits", "", "raw float32 logits expected for -check-input")
	pairs := flag.Int("paired", 0, "instead: this many pairs of blocks of runs, the engine and ORT in turn, in one process, at the first of -batches")
	block := flag.Int("block", 10, "with -paired: timed runs per block (after one untimed)")
	pause := flag.Duration("pause", 100*time.Millisecond, "with -paired: the pause after each block")
	control := flag.String("control", "", "with -paired: engine or ort, to pair that side with a copy of itself (the method's own bias)")
	flag.StringVar(&profilePrefix, "profile", "", "ONNX Runtime's profiler on: its JSON trace goes to PREFIX_<date>.json when a session ends")
	summary := flag.String("profile-summary", "", "instead: print the time per operator and output shape in this profiler trace, per run, largest first")
	flag.Parse()
	if *summary != "" {
		if err := profileSummary(os.Stdout, *summary); err != nil {
			fmt.Fprintln(os.Stderr, "ort:", err)
			os.Exit(1)
		}
		return
	}
	if err := parseShape(*shape); err != nil {
		fmt.Fprintln(os.Stderr, "ort: -shape:", err)
		os.Exit(2)
	}
	p := pairing{pairs: *pairs, block: *block, pause: *pause, control: *control}
	if err := run(*lib, *model, *threads, *batches, *minTime, *checkIn, *checkOut, p); err != nil {
		fmt.Fprintln(os.Stderr, "ort:", err)
		os.Exit(1)
	}
}

// pairing is the -paired mode's settings; pairs 0 means the plain timing.
type pairing struct {
	pairs, block int
	pause        time.Duration
	control      string
}

func run(lib, model string, threads int, batches string, minTime time.Duration, checkIn, checkOut string, p pairing) error {
	if lib == "" || model == "" {
		return errors.New("-lib and -model are required")
	}
	sizes, err := parseBatches(batches)
	if err != nil {
		return err
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(); err != nil {
		return fmt.Errorf("initialise ONNX Runtime from %s: %w", lib, err)
	}
	defer ort.DestroyEnvironment()
	classes, err := numClasses(model)
	if err != nil {
		return err
	}
	if checkIn != "" || checkOut != "" {
		if err := check(model, threads, classes, checkIn, checkOut); err != nil {
			return err
		}
	}
	if p.pairs > 0 {
		return paired(model, threads, sizes[0], classes, p.pairs, p.block, p.pause, p.control)
	}
	for _, batch := range sizes {
		in := make([]float32, batch*imageSize())
		for i := range in {
			in[i] = float32(i%255)/255 - 0.5 // the engine benchmark's input
		}
		s, err := newSession(model, threads, batch, classes, in)
		if err != nil {
			return err
		}
		if err := s.Run(); err != nil { // warm-up
			s.Destroy()
			return fmt.Errorf("run batch %d: %w", batch, err)
		}
		runs, start := 0, time.Now()
		for runs < 3 || time.Since(start) < minTime {
			if err := s.Run(); err != nil {
				s.Destroy()
				return fmt.Errorf("run batch %d: %w", batch, err)
			}
			runs++
		}
		el := time.Since(start)
		s.Destroy()
		fmt.Printf("batch=%d runs=%d ns/op=%d img/s=%.2f\n", batch, runs, el.Nanoseconds()/int64(runs),
			float64(runs*batch)/el.Seconds())
	}
	return nil
}

func parseBatches(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("batch size %q: want a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// numClasses reads the logits' class dimension from the model's output info.
func numClasses(model string) (int, error) {
	_, outs, err := ort.GetInputOutputInfo(model)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", model, err)
	}
	for _, o := range outs {
		if o.Name == "logits" && len(o.Dimensions) == 2 && o.Dimensions[1] > 0 {
			return int(o.Dimensions[1]), nil
		}
	}
	return 0, fmt.Errorf("%s: no output \"logits\" of shape N×classes", model)
}

// session is an ORT session bound to its input and output tensors.
type session struct {
	*ort.AdvancedSession
	in, out *ort.Tensor[float32]
}

func (s *session) Destroy() {
	s.AdvancedSession.Destroy()
	s.in.Destroy()
	s.out.Destroy()
}

func newSession(model string, threads, batch, classes int, input []float32) (*session, error) {
	in, err := ort.NewTensor(ort.NewShape(int64(batch), int64(chw[0]), int64(chw[1]), int64(chw[2])), input)
	if err != nil {
		return nil, fmt.Errorf("input tensor: %w", err)
	}
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(batch), int64(classes)))
	if err != nil {
		in.Destroy()
		return nil, fmt.Errorf("output tensor: %w", err)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		in.Destroy()
		out.Destroy()
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		in.Destroy()
		out.Destroy()
		return nil, fmt.Errorf("intra-op threads %d: %w", threads, err)
	}
	if profilePrefix != "" {
		if err := opts.EnableProfiling(profilePrefix); err != nil {
			in.Destroy()
			out.Destroy()
			return nil, fmt.Errorf("profiling to %s: %w", profilePrefix, err)
		}
	}
	s, err := ort.NewAdvancedSession(model, []string{"input"}, []string{"logits"},
		[]ort.Value{in}, []ort.Value{out}, opts)
	if err != nil {
		in.Destroy()
		out.Destroy()
		return nil, fmt.Errorf("session on %s: %w", model, err)
	}
	return &session{AdvancedSession: s, in: in, out: out}, nil
}

// check runs the recorded input and compares ORT's logits with the recorded ones.
func check(model string, threads, classes int, inPath, outPath string) error {
	x, err := readF32(inPath)
	if err != nil {
		return err
	}
	want, err := readF32(outPath)
	if err != nil {
		return err
	}
	batch := len(x) / imageSize()
	if batch == 0 || len(x) != batch*imageSize() || len(want) != batch*classes {
		return fmt.Errorf("check: %d input and %d logit values do not make a batch of %d×%d×%d images and %d classes",
			len(x), len(want), chw[0], chw[1], chw[2], classes)
	}
	s, err := newSession(model, threads, batch, classes, x)
	if err != nil {
		return err
	}
	defer s.Destroy()
	if err := s.Run(); err != nil {
		return fmt.Errorf("check run: %w", err)
	}
	var diff, maxAbs float64
	for i, g := range s.out.GetData() {
		diff = math.Max(diff, math.Abs(float64(g-want[i])))
		maxAbs = math.Max(maxAbs, math.Abs(float64(want[i])))
	}
	tol := 1e-4 * math.Max(1, maxAbs)
	fmt.Printf("check: batch %d, max |ORT - recorded| = %.3g (tolerance %.3g)\n", batch, diff, tol)
	if diff > tol {
		return fmt.Errorf("check: ORT's logits differ from %s by %.3g > %.3g", outPath, diff, tol)
	}
	return nil
}

func readF32(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not whole float32 values", path, len(b))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}

// chw is the input image's channels, height and width (-shape).
var chw = [3]int{3, 32, 32}

func imageSize() int { return chw[0] * chw[1] * chw[2] }

// parseShape sets chw from "C,H,W".
func parseShape(s string) error {
	f := strings.Split(s, ",")
	if len(f) != 3 {
		return fmt.Errorf("%q: want C,H,W", s)
	}
	for i, v := range f {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 4096 {
			return fmt.Errorf("%q: want three positive sizes up to 4096", s)
		}
		chw[i] = n
	}
	return nil
}
