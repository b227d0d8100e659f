package scaletest

import (
	"context"
	"flag"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/hub"
	"github.com/fmixzoo/zoo/internal/s3test"
	"github.com/fmixzoo/zoo/internal/server/zootest"
	"github.com/fmixzoo/zoo/internal/testutil"
)

var long = flag.Bool("long", false, "run the long scenario (make scaletest): 100 clients, about a minute of load")

// plan sizes the scenario.
type plan struct {
	clients int
	images  int           // distinct Fashion-MNIST test images sent
	steady  time.Duration // load between events
	down    time.Duration // how long a killed replica stays down
	gap     time.Duration // between the steps of the rolling restart
}

var (
	short    = plan{clients: 32, images: 500, steady: 2 * time.Second, down: time.Second, gap: 500 * time.Millisecond}
	longPlan = plan{clients: 100, images: 2000, steady: 5 * time.Second, down: 2 * time.Second, gap: 2 * time.Second}
)

const bucket, prefix = "zoo", "weights"

// TestFleet runs three zoo-serve replicas over one S3 store behind nginx
// under load, and checks that clients see no failure and no wrong answer
// while one replica is SIGKILLed and restarted, every replica is restarted
// in turn with SIGTERM, and the store is stopped and started again; that a
// replica with a warm cache starts without the store; and that a replica
// started cold during the outage reports why it is not ready and becomes
// ready when the store returns.
func TestFleet(t *testing.T) {
	p := short
	if *long {
		p = longPlan
	}
	testutil.NeedFile(t, zootest.FashionDir)
	s3 := s3test.Start(t)
	tmp := t.TempDir()
	bin := testutil.GoBuild(t, "github.com/fmixzoo/zoo/cmd/zoo-serve")

	// The zoo's bucket: the shipped weights (or the fixture model zootest
	// falls back to) under s3://zoo/weights, the manifest beside each replica.
	served, err := zootest.FashionModel(tmp)
	require.NoError(t, err)
	manifest, storeDir := served.Manifest, served.Store
	if manifest == "" {
		root, err := zootest.RepoRoot()
		require.NoError(t, err)
		manifest, storeDir = filepath.Join(root, "weights.json"), filepath.Join(root, "weights")
	}
	s3.MakeBucket(t, bucket)
	store, err := hub.NewS3Store(hub.S3Config{Endpoint: s3.Endpoint, Region: s3test.Region, Bucket: bucket, Prefix: prefix,
		AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey})
	require.NoError(t, err)
	pushDir(t, store, storeDir)
	samples := reference(t, store, manifest, served.Name, p.images, filepath.Join(tmp, "ref-cache"))

	env := append(os.Environ(),
		"ZOO_MANIFEST="+manifest, "ZOO_STORE=s3://"+bucket+"/"+prefix, "ZOO_S3_ENDPOINT="+s3.Endpoint,
		"AWS_ACCESS_KEY_ID="+s3test.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3test.SecretKey, "AWS_REGION=us-east-1",
		"ZOO_MODELS="+served.Name, "ZOO_TOKEN=", "ZOO_OFFLINE=", "ZOO_LOG_LEVEL=warn", "ZOO_SHUTDOWN_TIMEOUT=20s")
	newReplica := func(name string) *replica {
		return &replica{name: name, addr: testutil.FreeAddr(t), cache: filepath.Join(tmp, "cache-"+name), bin: bin, env: env}
	}
	fleet := []*replica{newReplica("r0"), newReplica("r1"), newReplica("r2")}
	var addrs []string
	for _, r := range fleet {
		r.start(t)
		addrs = append(addrs, r.addr)
	}
	for _, r := range fleet {
		r.waitReady(t, 2*time.Minute)
	}
	lb := startNginx(t, addrs)
	t.Logf("model %s (%s); replicas %v; nginx %s; %d clients", served.Name, served.Source, addrs, lb.url, p.clients)

	ld := startLoad(lb.url+"/v1/models/"+served.Name+"/classify?top_k=1", samples, p.clients)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			ld.finish()
		}
	})
	events := []string{}
	event := func(format string, args ...any) {
		msg := fmt.Sprintf("%6.1fs  ", time.Since(ld.start).Seconds()) + fmt.Sprintf(format, args...)
		events = append(events, msg)
		t.Log(msg)
	}
	time.Sleep(p.steady)

	// 1. SIGKILL a replica under load; restart it.
	ld.setPhase("kill")
	r := fleet[0]
	r.signal(t, syscall.SIGKILL)
	_ = r.p.Wait(t, 10*time.Second)
	event("%s SIGKILLed", r.name)
	time.Sleep(p.down)
	r.start(t)
	event("%s restarted, ready after %v", r.name, r.waitReady(t, time.Minute).Round(time.Millisecond))
	time.Sleep(p.steady)

	// 2. Rolling restart: SIGTERM each replica, wait for it to drain and
	// exit, start it again, wait for /readyz and for nginx to take it back,
	// then the next.
	ld.setPhase("rolling")
	for _, r := range fleet {
		r.signal(t, syscall.SIGTERM)
		require.NoError(t, r.p.Wait(t, 30*time.Second), "%s: exit after SIGTERM", r.name)
		r.start(t)
		event("%s SIGTERMed, exited cleanly, restarted, ready after %v", r.name, r.waitReady(t, time.Minute).Round(time.Millisecond))
		time.Sleep(failTimeout + p.gap) // until nginx tries it again

	}
	time.Sleep(p.steady)

	// 3. The store goes away. Warm replicas keep serving, and one restarted
	// now comes up from its cache alone; a replica with an empty cache
	// reports why it is not ready.
	ld.setPhase("store down")
	s3.Stop()
	event("S3 stopped")
	cold := newReplica("cold")
	cold.start(t)
	time.Sleep(p.gap)
	r = fleet[1]
	r.signal(t, syscall.SIGTERM)
	require.NoError(t, r.p.Wait(t, 30*time.Second), "%s: exit after SIGTERM", r.name)
	r.start(t)
	event("%s restarted with its warm cache while S3 is down, ready after %v", r.name, r.waitReady(t, time.Minute).Round(time.Millisecond))

	var rz readyz
	require.Eventually(t, func() bool {
		rz, err = cold.readyz()
		return err == nil && rz.status == 503 && rz.Reason != "" && !strings.HasPrefix(rz.Reason, "preloading")
	}, 45*time.Second, 100*time.Millisecond, "the cold replica's /readyz never gave a failure reason (last: %+v, %v)", rz, err)
	event("cold replica (empty cache) not ready: %s", rz.Reason)
	assert.Contains(t, rz.Reason, served.Name, "the reason names the model")
	assert.Contains(t, rz.Reason, "connection refused", "the reason says the store is unreachable")
	assert.Contains(t, rz.Reason, "s3://"+bucket, "the reason names the store")
	time.Sleep(p.steady)

	ld.setPhase("store back")
	s3.Restart(t)
	event("S3 restarted")
	event("cold replica ready after %v", cold.waitReady(t, time.Minute).Round(time.Millisecond))
	direct := &load{url: cold.url() + "/v1/models/" + served.Name + "/classify?top_k=1", client: ld.client}
	got, err := direct.classify(samples[0].png)
	require.NoError(t, err, "classify through the once-cold replica")
	assert.Equal(t, samples[0].index, got.Index, "the once-cold replica's answer")
	time.Sleep(p.steady)

	res := ld.finish()
	stopped = true
	for _, r := range append(fleet, cold) {
		r.notePeak()
	}
	share, retried := lb.upstreamShare(t)
	report(t, res, fleet, cold, share, retried, events)

	assert.Empty(t, res.wrong, "wrong answers")
	if !assert.Empty(t, res.failures, "failed requests") {
		t.Logf("nginx error log, first lines:\n%s", head(lb.errorLog(), 30))
	}
	for _, r := range fleet {
		assert.Positive(t, share[r.addr], "%s answered no request", r.name)
	}
	for _, ph := range []string{"steady", "kill", "rolling", "store down", "store back"} {
		assert.Positive(t, res.perPhase[ph], "no request during %q", ph)
	}
}

// pushDir uploads the .onnx files of dir into the store.
func pushDir(t *testing.T, store hub.Store, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.onnx"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no ONNX weights under %s", dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, path := range files {
		f, err := os.Open(path)
		require.NoError(t, err)
		st, err := f.Stat()
		require.NoError(t, err)
		err = store.Put(ctx, filepath.Base(path), f, st.Size())
		f.Close()
		require.NoError(t, err, "push %s", path)
	}
}

// reference loads the model in process through the same store and manifest
// and returns the first n test images as PNG with its top-1 answers.
func reference(t *testing.T, store hub.Store, manifest, name string, n int, cache string) []sample {
	t.Helper()
	ctx := context.Background()
	m, err := hub.ReadManifest(ctx, manifest, nil)
	require.NoError(t, err)
	model, err := hub.LoadContext(ctx, name, hub.WithManifest(m), hub.WithStore(store), hub.WithCache(cache))
	require.NoError(t, err)
	imgs, _, err := zootest.FashionTest(n)
	require.NoError(t, err)
	out := make([]sample, n)
	for i := 0; i < n; i += 100 {
		batch := make([]image.Image, 0, 100)
		for _, img := range imgs[i:min(i+100, n)] {
			batch = append(batch, img)
		}
		preds, err := model.Predict(ctx, batch, 1)
		require.NoError(t, err)
		for j, p := range preds {
			out[i+j] = sample{png: zootest.PNG(imgs[i+j]), index: p[0].Index, prob: p[0].Probability}
		}
	}
	return out
}

// report logs the figures (shown by go test -v, as make scaletest runs it).
func report(t *testing.T, res results, fleet []*replica, cold *replica, share map[string]int, retried int, events []string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "\n== fleet: 3 replicas behind nginx, one S3 store ==\n")
	fmt.Fprintf(&b, "requests %d in %.1fs (%.0f/s): ok %d, failed %d, wrong %d\n", res.requests, res.elapsed.Seconds(),
		float64(res.requests)/res.elapsed.Seconds(), res.ok, len(res.failures), len(res.wrong))
	fmt.Fprintf(&b, "latency of correct answers: p50 %v  p95 %v  p99 %v\n", res.p50.Round(10*time.Microsecond),
		res.p95.Round(10*time.Microsecond), res.p99.Round(10*time.Microsecond))
	phases := make([]string, 0, len(res.perPhase))
	for ph := range res.perPhase {
		phases = append(phases, ph)
	}
	sort.Strings(phases)
	for _, ph := range phases {
		fmt.Fprintf(&b, "  phase %-10s %6d requests\n", ph, res.perPhase[ph])
	}
	total := 0
	for _, n := range share {
		total += n
	}
	fmt.Fprintf(&b, "nginx: %d requests logged, %d sent to more than one replica\n", total, retried)
	for _, r := range append(fleet, cold) {
		fmt.Fprintf(&b, "  %-4s %s  answered %6d (%4.1f%%)  runs %d  peak RSS %.0f MiB\n", r.name, r.addr, share[r.addr],
			100*float64(share[r.addr])/float64(max(total, 1)), r.starts, float64(r.peakRSS)/(1<<20))
	}
	for i, f := range res.failures {
		if i == 20 {
			fmt.Fprintf(&b, "  … %d more failures\n", len(res.failures)-i)
			break
		}
		fmt.Fprintf(&b, "  failed at %.2fs (%s): %s\n", f.at.Seconds(), f.phase, oneLine(f.err))
	}
	for _, w := range res.wrong[:min(len(res.wrong), 10)] {
		fmt.Fprintf(&b, "  wrong: %s\n", w)
	}
	fmt.Fprintf(&b, "events:\n  %s\n", strings.Join(events, "\n  "))
	t.Log(b.String())
}

// head returns the first n lines of s.
func head(s string, n int) string {
	lines := strings.SplitAfterN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "")
}

// oneLine squeezes an error (an nginx HTML page, say) onto one short line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
