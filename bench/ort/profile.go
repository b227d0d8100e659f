package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// profilePrefix is -profile: where ONNX Runtime's profiler writes, or ""
// for no profiling.
var profilePrefix string

// traceEvent is the part of an ONNX Runtime profiler event profileSummary
// reads.
type traceEvent struct {
	Cat  string  `json:"cat"`
	Name string  `json:"name"`
	Dur  float64 `json:"dur"` // µs
	Args struct {
		OpName string                         `json:"op_name"`
		Out    []map[string][]json.RawMessage `json:"output_type_shape"`
	} `json:"args"`
}

// profileSummary prints the kernel time of a profiler trace per operator
// and output shape, per model run, largest first.
func profileSummary(w io.Writer, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var events []traceEvent
	if err := json.Unmarshal(data, &events); err != nil {
		return fmt.Errorf("%s: not an ONNX Runtime trace: %w", path, err)
	}
	runs := 0
	var runTime float64
	total := map[string]float64{}
	for _, e := range events {
		switch {
		case e.Cat == "Session" && e.Name == "model_run":
			runs++
			runTime += e.Dur
		case e.Cat == "Node" && strings.HasSuffix(e.Name, "_kernel_time"):
			var shapes []string
			for _, o := range e.Args.Out {
				for _, dims := range o {
					var d []string
					for _, v := range dims {
						d = append(d, string(v))
					}
					shapes = append(shapes, "["+strings.Join(d, " ")+"]")
				}
			}
			total[e.Args.OpName+" "+strings.Join(shapes, " ")] += e.Dur
		}
	}
	if runs == 0 {
		return fmt.Errorf("%s: no model_run events", path)
	}
	keys := make([]string, 0, len(total))
	var sum float64
	for k, v := range total {
		keys = append(keys, k)
		sum += v
	}
	sort.Slice(keys, func(i, j int) bool { return total[keys[i]] > total[keys[j]] })
	fmt.Fprintf(w, "%d runs: %.3f ms a run, %.3f in kernels\n", runs, runTime/1e3/float64(runs), sum/1e3/float64(runs))
	for _, k := range keys {
		fmt.Fprintf(w, "%9.3f ms  %s\n", total[k]/1e3/float64(runs), k)
	}
	return nil
}
