// Command loadtest measures zoo-serve under load on loopback: it starts the
// server binary with a Fashion-MNIST model, runs many concurrent clients
// against the classify endpoint with real Fashion-MNIST test images, then
// measures the same model's in-process throughput at the same batch size
// through package hub, and prints both. The whole run is bounded at 60 s.
//
// Usage (see `make loadtest`):
//
//	go build -o /tmp/zoo-serve ./cmd/zoo-serve
//	go run ./cmd/zoo-serve/loadtest -server /tmp/zoo-serve
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/server/zootest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type config struct {
	server, model               string
	clients, maxBatch, workers  int
	warmup, duration, inprocess time.Duration
	batchDelay                  time.Duration
}

func run() error {
	var c config
	flag.StringVar(&c.server, "server", "", "zoo-serve binary to start (required)")
	flag.StringVar(&c.model, "model", "", "model to load (default: a shipped Fashion-MNIST model, else the testdata/torch/lenet.onnx fixture)")
	flag.IntVar(&c.clients, "clients", 200, "concurrent clients")
	flag.IntVar(&c.maxBatch, "max-batch", 32, "zoo-serve --max-batch, and the in-process batch size")
	flag.DurationVar(&c.batchDelay, "batch-delay", 2*time.Millisecond, "zoo-serve --batch-delay")
	flag.IntVar(&c.workers, "workers", 1, "zoo-serve --workers")
	flag.DurationVar(&c.warmup, "warmup", 5*time.Second, "load before measuring")
	flag.DurationVar(&c.duration, "duration", 30*time.Second, "measured load")
	flag.DurationVar(&c.inprocess, "inprocess", 8*time.Second, "in-process measurement")
	flag.Parse()
	if c.server == "" {
		return errors.New("-server is required")
	}
	if total := c.warmup + c.duration + c.inprocess; total > 50*time.Second {
		return fmt.Errorf("warmup+duration+inprocess is %v; the run is bounded at 60 s (leave 10 s for start-up)", total)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	tmp, err := os.MkdirTemp("", "zoo-loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	served := zootest.Served{Name: c.model, Source: "-model"}
	if c.model == "" {
		if served, err = zootest.FashionModel(tmp); err != nil {
			return err
		}
	}
	imgs, _, err := zootest.FashionTest(1000)
	if err != nil {
		return err
	}
	pngs := make([][]byte, len(imgs))
	for i, img := range imgs {
		pngs[i] = zootest.PNG(img)
	}

	fmt.Printf("model %s (%s)\n", served.Name, served.Source)
	srv, err := startServer(ctx, c, served, tmp)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Printf("zoo-serve pid %d at %s, --max-batch %d --batch-delay %v --workers %d\n", srv.cmd.Process.Pid, srv.url, c.maxBatch, c.batchDelay, c.workers)

	res, err := load(ctx, c, srv, pngs)
	if err != nil {
		return err
	}
	batchMean := srv.meanBatch()
	if err := srv.stop(); err != nil {
		return fmt.Errorf("zoo-serve shutdown: %w", err)
	}
	local, err := inProcess(ctx, c, served, tmp, imgs)
	if err != nil {
		return err
	}
	report(c, res, batchMean, local)
	return nil
}

// server is a running zoo-serve.
type server struct {
	cmd    *exec.Cmd
	model  string
	url    string
	done   chan error
	once   sync.Once
	err    error
	stderr bytes.Buffer
}

var listenRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

func startServer(ctx context.Context, c config, m zootest.Served, tmp string) (*server, error) {
	cmd := exec.Command(c.server, "--addr", "127.0.0.1:0", "--models", m.Name,
		"--max-batch", strconv.Itoa(c.maxBatch), "--batch-delay", c.batchDelay.String(), "--workers", strconv.Itoa(c.workers),
		"--max-queue", "4096")
	cmd.Env = append(os.Environ(), append(m.Env(), "ZOO_CACHE="+tmp+"/cache", "ZOO_TOKEN=")...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", c.server, err)
	}
	s := &server{cmd: cmd, model: m.Name, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
			if !strings.Contains(line, "msg=request ") && s.stderr.Len() < 1<<16 {
				s.stderr.WriteString(line + "\n")
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
	case err := <-s.done:
		return nil, fmt.Errorf("zoo-serve exited: %v\n%s", err, s.stderr.String())
	case <-ctx.Done():
		s.stop()
		return nil, fmt.Errorf("zoo-serve did not listen: %w", ctx.Err())
	}
	for {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("zoo-serve exited: %v\n%s", err, s.stderr.String())
		case <-ctx.Done():
			s.stop()
			return nil, fmt.Errorf("zoo-serve not ready: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() error {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case s.err = <-s.done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			s.err = errors.New("no exit 15 s after SIGTERM")
		}
	})
	return s.err
}

// rss returns the server's current and peak resident set size in bytes.
func (s *server) rss() (cur, peak int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			cur = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return cur, peak
}

// meanBatch reads the mean batch size off /metrics.
func (s *server) meanBatch() float64 {
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var sum, count float64
	for _, line := range strings.Split(string(body), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch {
		case strings.HasPrefix(f[0], "zoo_batch_size_sum{"):
			sum += v
		case strings.HasPrefix(f[0], "zoo_batch_size_count{"):
			count += v
		}
	}
	if count == 0 {
		return 0
	}
	return sum / count
}

type loadResult struct {
	latencies          []time.Duration
	errors, warmErrors int64
	firstErr           string
	measured           time.Duration
	rssWarm, rssEnd    int64
	rssPeak            int64
}

// load runs the clients: c.warmup unmeasured, then c.duration measured.
func load(ctx context.Context, c config, s *server, pngs [][]byte) (*loadResult, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: c.clients, MaxIdleConnsPerHost: c.clients}, Timeout: 30 * time.Second}
	var measuring atomic.Bool
	var next atomic.Int64
	res := &loadResult{}
	var mu sync.Mutex
	var errOnce sync.Once
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for range c.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			defer func() {
				mu.Lock()
				res.latencies = append(res.latencies, mine...)
				mu.Unlock()
			}()
			url := s.url + "/v1/models/" + s.model + "/classify"
			for lctx.Err() == nil {
				body := pngs[next.Add(1)%int64(len(pngs))]
				m := measuring.Load()
				t0 := time.Now()
				err := post(lctx, client, url, body)
				d := time.Since(t0)
				if lctx.Err() != nil {
					return // cut short by the end of the run: not counted
				}
				switch {
				case err != nil && m:
					atomic.AddInt64(&res.errors, 1)
					errOnce.Do(func() { res.firstErr = err.Error() })
				case err != nil:
					atomic.AddInt64(&res.warmErrors, 1)
				case m && measuring.Load():
					mine = append(mine, d)
				}
			}
		}()
	}
	select {
	case <-time.After(c.warmup):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res.rssWarm, _ = s.rss()
	measuring.Store(true)
	start := time.Now()
	select {
	case <-time.After(c.duration):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	measuring.Store(false)
	res.measured = time.Since(start)
	res.rssEnd, res.rssPeak = s.rss()
	stop()
	wg.Wait()
	return res, nil
}

func post(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "image/png")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}

// inProcess measures hub's Predict on batches of c.maxBatch images (the
// server's work minus HTTP and PNG decoding), in images per second.
func inProcess(ctx context.Context, c config, m zootest.Served, tmp string, imgs []*image.Gray) (float64, error) {
	opts, err := m.Options()
	if err != nil {
		return 0, err
	}
	model, err := hub.LoadContext(ctx, m.Name, append(opts, hub.WithCache(tmp+"/cache"))...)
	if err != nil {
		return 0, err
	}
	batch := make([]image.Image, c.maxBatch)
	for i := range batch {
		batch[i] = imgs[i%len(imgs)]
	}
	if _, err := model.Predict(ctx, batch, 5); err != nil { // warm-up
		return 0, err
	}
	n := 0
	start := time.Now()
	for time.Since(start) < c.inprocess {
		if _, err := model.Predict(ctx, batch, 5); err != nil {
			return 0, err
		}
		n += len(batch)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func report(c config, r *loadResult, batchMean, local float64) {
	slices.Sort(r.latencies)
	q := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	n := len(r.latencies)
	tput := float64(n) / r.measured.Seconds()
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	fmt.Printf("clients %d, warm-up %v, measured %.1fs\n", c.clients, c.warmup, r.measured.Seconds())
	fmt.Printf("requests   %d ok, %d errors (%d during warm-up)\n", n, r.errors, r.warmErrors)
	if r.firstErr != "" {
		fmt.Printf("first error: %s\n", r.firstErr)
	}
	fmt.Printf("throughput %.1f images/s over HTTP (mean batch %.1f)\n", tput, batchMean)
	fmt.Printf("latency    p50 %v  p95 %v  p99 %v  max %v\n", q(0.50).Round(time.Microsecond*100), q(0.95).Round(time.Microsecond*100), q(0.99).Round(time.Microsecond*100), q(1).Round(time.Microsecond*100))
	fmt.Printf("server RSS %.1f MiB after warm-up, %.1f MiB at the end, peak %.1f MiB\n", mib(r.rssWarm), mib(r.rssEnd), mib(r.rssPeak))
	fmt.Printf("in-process %.1f images/s (hub Predict, batch %d, one goroutine)\n", local, c.maxBatch)
	ratio := 0.0
	if local > 0 {
		ratio = tput / local
	}
	p99p50 := 0.0
	if q(0.5) > 0 {
		p99p50 = float64(q(0.99)) / float64(q(0.5))
	}
	growth := 0.0
	if r.rssWarm > 0 {
		growth = float64(r.rssEnd-r.rssWarm) / float64(r.rssWarm)
	}
	fmt.Println("goals:")
	fmt.Printf("  errors = 0                    %s (%d)\n", verdict(r.errors == 0), r.errors)
	fmt.Printf("  server ≥ 85%% of in-process    %s (%.0f%%)\n", verdict(ratio >= 0.85), 100*ratio)
	fmt.Printf("  p99 ≤ 3 × p50                 %s (%.2f×)\n", verdict(p99p50 <= 3), p99p50)
	fmt.Printf("  RSS flat after warm-up (±10%%) %s (%+.1f%%)\n", verdict(growth <= 0.10), 100*growth)
}

func verdict(ok bool) string {
	if ok {
		return "met   "
	}
	return "NOT met"
}
