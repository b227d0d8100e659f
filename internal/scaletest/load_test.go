package scaletest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// sample is one request body and the answer the in-process model gives.
type sample struct {
	png   []byte
	index int
	prob  float64
}

// failure is one request that did not get a 200.
type failure struct {
	at    time.Duration // since the load started
	phase string
	err   string
}

// load is a bounded closed-loop client: a fixed number of clients, each
// sending one request at a time until stopped.
type load struct {
	url     string
	samples []sample
	client  *http.Client
	start   time.Time
	stop    chan struct{}
	wg      sync.WaitGroup
	next    atomic.Int64
	phase   atomic.Pointer[string]

	mu       sync.Mutex
	lat      []time.Duration
	perPhase map[string]int
	wrong    []string
	failures []failure
}

func startLoad(url string, samples []sample, clients int) *load {
	l := &load{
		url: url, samples: samples, start: time.Now(), stop: make(chan struct{}), perPhase: map[string]int{},
		client: &http.Client{
			Timeout:   60 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients},
		},
	}
	l.setPhase("steady")
	for range clients {
		l.wg.Add(1)
		go l.client1()
	}
	return l
}

func (l *load) setPhase(name string) { l.phase.Store(&name) }

func (l *load) client1() {
	defer l.wg.Done()
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		s := l.samples[int(l.next.Add(1))%len(l.samples)]
		phase := *l.phase.Load()
		t0 := time.Now()
		got, err := l.classify(s.png)
		d := time.Since(t0)
		l.mu.Lock()
		l.perPhase[phase]++
		switch {
		case err != nil:
			l.failures = append(l.failures, failure{at: t0.Sub(l.start), phase: phase, err: err.Error()})
		case got.Index != s.index || math.Abs(got.Probability-s.prob) > 1e-3:
			l.wrong = append(l.wrong, fmt.Sprintf("got %d (p=%.5f), want %d (p=%.5f)", got.Index, got.Probability, s.index, s.prob))
		default:
			l.lat = append(l.lat, d)
		}
		l.mu.Unlock()
	}
}

type prediction struct {
	Index       int     `json:"index"`
	Probability float64 `json:"probability"`
}

func (l *load) classify(png []byte) (prediction, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", l.url, bytes.NewReader(png))
	if err != nil {
		return prediction{}, err
	}
	req.Header.Set("Content-Type", "image/png")
	resp, err := l.client.Do(req)
	if err != nil {
		return prediction{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return prediction{}, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return prediction{}, fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	var out struct {
		Predictions [][]prediction `json:"predictions"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return prediction{}, fmt.Errorf("decode answer: %w", err)
	}
	if len(out.Predictions) != 1 || len(out.Predictions[0]) != 1 {
		return prediction{}, fmt.Errorf("answer has %d images, want 1 with top-1: %s", len(out.Predictions), body)
	}
	return out.Predictions[0][0], nil
}

// results are the load's figures.
type results struct {
	requests, ok  int
	wrong         []string
	failures      []failure
	perPhase      map[string]int
	elapsed       time.Duration
	p50, p95, p99 time.Duration
}

// finish stops the clients, waits for their last requests and returns the
// figures.
func (l *load) finish() results {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	slices.Sort(l.lat)
	q := func(p float64) time.Duration {
		if len(l.lat) == 0 {
			return 0
		}
		return l.lat[min(len(l.lat)-1, int(p*float64(len(l.lat))))]
	}
	r := results{ok: len(l.lat), wrong: l.wrong, failures: l.failures, perPhase: l.perPhase,
		elapsed: time.Since(l.start), p50: q(0.50), p95: q(0.95), p99: q(0.99)}
	r.requests = r.ok + len(r.wrong) + len(r.failures)
	return r
}
