package check

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/fmixzoo/zoo/hub"
)

// repoRoot is the product's module root.
var repoRoot = filepath.Join("..", "..")

// dockerfile is what the tests read from deploy/Dockerfile.
type dockerfile struct {
	buildEnv  []string // KEY=VALUE before `go build`
	buildArgs []string // after `go`, with -o's argument as written
	out       string   // -o's argument
	env       map[string]string
	user      string
	expose    []string
	volumes   []string
}

// readDockerfile parses the instructions the tests need. A `go build` in a
// RUN instruction must be a plain command: environment assignments, go,
// build and its arguments, no shell syntax.
func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir, "Dockerfile"))
	require.NoError(t, err)
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	d := dockerfile{env: map[string]string{}}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "RUN":
			i := 1
			for i < len(f) && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(f[i]) {
				i++
			}
			if i+1 < len(f) && f[i] == "go" && f[i+1] == "build" {
				require.Empty(t, d.buildArgs, "Dockerfile: more than one go build")
				d.buildEnv = f[1:i]
				d.buildArgs = f[i+1:]
				for _, a := range d.buildArgs {
					require.NotRegexp(t, `[;&|$"'<>]`, a, "Dockerfile: the go build line must be a plain command")
				}
				for j, a := range d.buildArgs {
					if a == "-o" && j+1 < len(d.buildArgs) {
						d.out = d.buildArgs[j+1]
					}
				}
			}
		case "ENV":
			for _, kv := range f[1:] {
				k, v, ok := strings.Cut(kv, "=")
				require.True(t, ok, "Dockerfile: ENV %q: want KEY=VALUE", kv)
				d.env[k] = v
			}
		case "USER":
			d.user = f[1]
		case "EXPOSE":
			d.expose = append(d.expose, f[1:]...)
		case "VOLUME":
			d.volumes = append(d.volumes, f[1:]...)
		}
	}
	require.NotEmpty(t, d.buildArgs, "Dockerfile: no RUN … go build")
	require.NotEmpty(t, d.out, "Dockerfile: go build without -o")
	return d
}

var built struct {
	once sync.Once
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.path != "" {
		os.RemoveAll(filepath.Dir(built.path))
	}
	os.Exit(code)
}

// zooServe builds zoo-serve with the Dockerfile's go build line, as written
// but for the output path.
func zooServe(t *testing.T) string {
	t.Helper()
	d := readDockerfile(t)
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "zoo-serve-image")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "zoo-serve")
		args := append([]string(nil), d.buildArgs...)
		for i, a := range args {
			if a == "-o" {
				args[i+1] = built.path
			}
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), d.buildEnv...)
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("%s go %s: %v\n%s", strings.Join(d.buildEnv, " "), strings.Join(args, " "), err, out)
		}
	})
	require.NoError(t, built.err)
	return built.path
}

// zooServeHelp is what zoo-serve -h says: its flags with their variables,
// and every ZOO_ name it mentions.
type zooServeHelp struct {
	flags map[string]string // flag name → ZOO_ variable
	env   map[string]bool
	text  string
}

func readHelp(t *testing.T) zooServeHelp {
	t.Helper()
	cmd := exec.Command(zooServe(t), "-h")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "zoo-serve -h: %s", out.String())
	h := zooServeHelp{flags: map[string]string{}, env: map[string]bool{}, text: out.String()}
	flagRE := regexp.MustCompile(`^  -([a-z0-9-]+)`)
	envRE := regexp.MustCompile(`\(env (ZOO_[A-Z0-9_]+)`)
	var last string
	for _, line := range strings.Split(h.text, "\n") {
		if m := flagRE.FindStringSubmatch(line); m != nil {
			last = m[1]
			h.flags[last] = ""
		}
		if m := envRE.FindStringSubmatch(line); m != nil && last != "" {
			h.flags[last] = m[1]
		}
	}
	for _, m := range regexp.MustCompile(`ZOO_[A-Z0-9_]*[A-Z0-9]`).FindAllString(h.text, -1) {
		h.env[m] = true
	}
	require.Greater(t, len(h.flags), 10, "flags parsed from zoo-serve -h:\n%s", h.text)
	require.True(t, h.env["ZOO_TOKEN"], "zoo-serve -h names ZOO_TOKEN")
	return h
}

// knownEnv is every variable zoo-serve reads: the ZOO_ names of its -h, the
// names package hub reads (its envVars list, the one hub.FromEnv reads, and
// any os.Getenv in its source), and the AWS credential names minio-go's
// EnvAWS provider reads (hub's default credential chain).
func knownEnv(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{}
	for k := range readHelp(t).env {
		known[k] = true
	}
	getenv := regexp.MustCompile(`os\.(?:Getenv|LookupEnv)\("([A-Z0-9_]+)"\)`)
	files, err := filepath.Glob(filepath.Join(repoRoot, "hub", "*.go"))
	require.NoError(t, err)
	var hubSrc []byte
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		hubSrc = append(hubSrc, data...)
		for _, m := range getenv.FindAllSubmatch(data, -1) {
			known[string(m[1])] = true
		}
	}
	list := regexp.MustCompile(`(?s)\nvar envVars = \[\]string\{(.*?)\n\}`).FindSubmatch(hubSrc)
	require.NotNil(t, list, "hub's envVars list")
	consts := map[string]string{} // EnvUpstream → ZOO_UPSTREAM
	for _, m := range regexp.MustCompile(`\b(Env\w+)\s*=\s*"([A-Z0-9_]+)"`).FindAllSubmatch(hubSrc, -1) {
		consts[string(m[1])] = string(m[2])
	}
	for _, m := range regexp.MustCompile(`"([A-Z0-9_]+)"|\b(Env\w+)\b`).FindAllSubmatch(list[1], -1) {
		name := string(m[1])
		if len(m[2]) > 0 {
			name = consts[string(m[2])]
			require.NotEmpty(t, name, "hub constant %s", m[2])
		}
		known[name] = true
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/minio/minio-go/v7")
	cmd.Dir = repoRoot
	dir, err := cmd.Output()
	require.NoError(t, err, "go list minio-go")
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "pkg", "credentials", "env_aws.go"))
	require.NoError(t, err)
	for _, m := range getenv.FindAllSubmatch(data, -1) {
		known[string(m[1])] = true
	}
	for _, want := range []string{"ZOO_S3_ENDPOINT", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		require.True(t, known[want], "%s found in the sources", want)
	}
	return known
}

// served is a container of the manifests that runs zoo-serve.
type served struct {
	where string
	c     corev1.Container
	port  int32 // the container port zoo-serve listens on
	grace *int64
}

// servedContainers gathers zoo-serve's containers from the built base and
// overlay and the KServe runtime, with the InferenceService's overrides.
func servedContainers(t *testing.T) []served {
	t.Helper()
	var out []served
	for _, dir := range []string{"base", filepath.Join("overlays", "production")} {
		f := fleetOf(t, build(t, dir))
		c := container(t, f.dep.Spec.Template.Spec.Containers, "zoo-serve")
		out = append(out, served{where: dir, c: c, port: containerPort(t, c, "http"), grace: f.dep.Spec.Template.Spec.TerminationGracePeriodSeconds})
	}
	sr := decodeFile[*ServingRuntime](t, filepath.Join("kserve", "servingruntime.yaml"))
	isvc := decodeFile[*InferenceService](t, filepath.Join("kserve", "inferenceservice.yaml"))
	require.Len(t, sr.Spec.Containers, 1)
	c := sr.Spec.Containers[0]
	require.Len(t, c.Ports, 1)
	out = append(out, served{where: "kserve runtime", c: c, port: c.Ports[0].ContainerPort})
	m := isvc.Spec.Predictor.Model
	require.NotNil(t, m)
	c.Env = append(c.Env, m.Env...)
	out = append(out, served{where: "kserve inference service", c: c, port: c.Ports[0].ContainerPort})
	return out
}

func decodeFile[T any](t *testing.T, path string) T {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir, path))
	require.NoError(t, err)
	obj, err := decode(data)
	require.NoError(t, err, path)
	v, ok := obj.(T)
	require.True(t, ok, "%s is a %T", path, obj)
	return v
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

func portOf(t *testing.T, addr string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err, "address %q", addr)
	return int32(atoi(t, p))
}

// TestManifestsMatchZooServe: the variables, flags, ports and timings the
// deployment files give zoo-serve are ones it has.
func TestManifestsMatchZooServe(t *testing.T) {
	known := knownEnv(t)
	help := readHelp(t)
	manifest, err := hub.DefaultManifest()
	require.NoError(t, err)
	shutdownDefault := regexp.MustCompile(`-shutdown-timeout duration\n.*\(default ([0-9a-z.]+)\)`).FindStringSubmatch(help.text)
	require.NotNil(t, shutdownDefault, "zoo-serve -h gives --shutdown-timeout's default")

	for _, s := range servedContainers(t) {
		t.Run(s.where, func(t *testing.T) {
			env := map[string]string{}
			for _, e := range s.c.Env {
				assert.True(t, known[e.Name], "%s is not a variable zoo-serve reads", e.Name)
				env[e.Name] = e.Value
			}
			for _, a := range append(append([]string{}, s.c.Command...), s.c.Args...) {
				if name, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), ""); ok && strings.HasPrefix(a, "-") {
					name, _, _ = strings.Cut(name, "=")
					_, has := help.flags[name]
					assert.True(t, has, "zoo-serve has no flag %s", a)
				}
			}
			require.Contains(t, env, "ZOO_ADDR")
			assert.Equal(t, s.port, portOf(t, env["ZOO_ADDR"]), "ZOO_ADDR listens on the container port")
			for _, p := range []*corev1.Probe{s.c.ReadinessProbe, s.c.LivenessProbe, s.c.StartupProbe} {
				if p == nil {
					continue
				}
				require.NotNil(t, p.HTTPGet)
				port := p.HTTPGet.Port
				if port.StrVal != "" {
					port.IntVal = containerPort(t, s.c, port.StrVal)
				}
				assert.Equal(t, s.port, port.IntVal, "probe %s on the container port", p.HTTPGet.Path)
			}
			for _, name := range strings.Split(env["ZOO_MODELS"], ",") {
				if name = strings.TrimSpace(name); name != "" {
					_, err := manifest.Lookup(name)
					assert.NoError(t, err, "ZOO_MODELS names a model of weights.json")
				}
			}
			if s.grace != nil {
				shutdown := env["ZOO_SHUTDOWN_TIMEOUT"]
				if shutdown == "" {
					shutdown = shutdownDefault[1]
				}
				d, err := time.ParseDuration(shutdown)
				require.NoError(t, err)
				if ps := s.c.Lifecycle; ps != nil && ps.PreStop != nil && ps.PreStop.Sleep != nil {
					d += time.Duration(ps.PreStop.Sleep.Seconds) * time.Second
				}
				assert.Greater(t, time.Duration(*s.grace)*time.Second, d,
					"terminationGracePeriodSeconds above the preStop sleep and the drain (ZOO_SHUTDOWN_TIMEOUT)")
			}
		})
	}

	// The image and the Deployment agree.
	d := readDockerfile(t)
	for k := range d.env {
		assert.True(t, known[k], "Dockerfile ENV %s is not a variable zoo-serve reads", k)
	}
	dep := fleetOf(t, build(t, "base")).dep
	c := container(t, dep.Spec.Template.Spec.Containers, "zoo-serve")
	assert.Equal(t, []string{strconv.Itoa(int(portOf(t, d.env["ZOO_ADDR"])))}, d.expose, "EXPOSE is ZOO_ADDR's port")
	assert.Equal(t, containerPort(t, c, "http"), portOf(t, d.env["ZOO_ADDR"]))
	assert.Equal(t, []string{d.env["ZOO_CACHE"]}, d.volumes, "the cache is the image's volume")
	assert.Equal(t, d.env["ZOO_CACHE"], envVar(t, c, "ZOO_CACHE").Value)
	uid, _, _ := strings.Cut(d.user, ":")
	assert.Equal(t, int64(atoi(t, uid)), *dep.Spec.Template.Spec.SecurityContext.RunAsUser, "the Deployment runs as the image's user")
	assert.NotEqual(t, "0", uid, "the image's user is not root")
}

// probePaths are the HTTP paths the manifests probe or scrape.
func probePaths(t *testing.T) []string {
	t.Helper()
	set := map[string]bool{}
	for _, s := range servedContainers(t) {
		for _, p := range []*corev1.Probe{s.c.ReadinessProbe, s.c.LivenessProbe, s.c.StartupProbe} {
			if p != nil && p.HTTPGet != nil {
				set[p.HTTPGet.Path] = true
			}
		}
	}
	dep := fleetOf(t, build(t, "base")).dep
	set[dep.Spec.Template.Annotations["prometheus.io/path"]] = true
	sr := decodeFile[*ServingRuntime](t, filepath.Join("kserve", "servingruntime.yaml"))
	set[sr.Annotations["prometheus.kserve.io/path"]] = true
	var paths []string
	for p := range set {
		require.True(t, strings.HasPrefix(p, "/"), "path %q", p)
		paths = append(paths, p)
	}
	return paths
}

// TestImage runs the binary the Dockerfile builds the way the image runs
// it: from a directory holding nothing but the binary, as the image's
// non-root user (when the test runs as root), with the image's environment
// and no other, HOME unusable, the cache volume's parent read-only and the
// weights fetched over HTTP into the cache volume. Every path the
// manifests probe answers 200, and the answers equal the in-process model's.
func TestImage(t *testing.T) {
	d := readDockerfile(t)
	bin := zooServe(t)

	f, err := elf.Open(bin)
	require.NoError(t, err)
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "a static binary has no program interpreter")
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	assert.Empty(t, libs, "a static binary needs no shared library")
	f.Close()

	root, err := os.MkdirTemp("", "zoo-image-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(root) })
	require.NoError(t, os.Chmod(root, 0o755))
	app := filepath.Join(root, "app")
	cacheParent := filepath.Join(root, "var-cache")
	cacheVol := filepath.Join(cacheParent, "fmixzoo")
	require.NoError(t, os.MkdirAll(app, 0o755))
	require.NoError(t, os.MkdirAll(cacheVol, 0o755))
	data, err := os.ReadFile(bin)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(app, "zoo-serve"), data, 0o555))

	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		uid, gid, _ := strings.Cut(d.user, ":")
		cred = &syscall.Credential{Uid: uint32(atoi(t, uid)), Gid: uint32(atoi(t, gid))}
		require.NoError(t, os.Chown(cacheVol, int(cred.Uid), int(cred.Gid)))
	}
	require.NoError(t, os.Chmod(app, 0o555))
	require.NoError(t, os.Chmod(cacheParent, 0o555))
	t.Cleanup(func() { os.Chmod(app, 0o755); os.Chmod(cacheParent, 0o755) })

	weights := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(repoRoot, "weights"))))
	t.Cleanup(weights.Close)
	dep := fleetOf(t, build(t, "base")).dep
	model := strings.Split(envVar(t, container(t, dep.Spec.Template.Spec.Containers, "zoo-serve"), "ZOO_MODELS").Value, ",")[0]

	env := []string{"HOME=/nonexistent"}
	for k, v := range d.env {
		env = append(env, k+"="+v)
	}
	// The port is picked at run time and the cache volume is mounted
	// elsewhere than in the image; the store is the loopback server.
	env = append(env, "ZOO_ADDR=127.0.0.1:0", "ZOO_CACHE="+cacheVol, "ZOO_STORE="+weights.URL, "ZOO_MODELS="+model)
	cmd := exec.Command("./zoo-serve")
	cmd.Dir, cmd.Env = app, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	var logs bytes.Buffer
	var logsMu sync.Mutex
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logsMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logsMu.Unlock()
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
			}
		}
		done <- cmd.Wait()
	}()
	logText := func() string { logsMu.Lock(); defer logsMu.Unlock(); return logs.String() }
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	var url string
	select {
	case a := <-addr:
		url = "http://" + a
	case err := <-done:
		t.Fatalf("zoo-serve exited: %v\n%s", err, logText())
	case <-time.After(time.Minute):
		t.Fatalf("zoo-serve did not log a JSON \"listening\" line:\n%s", logText())
	}
	require.Eventually(t, func() bool {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 2*time.Minute, 50*time.Millisecond, "not ready:\n%s", logText())

	// The probes and scrape paths, and the v2 model endpoints KServe's
	// protocolVersions: [v2] promises.
	for _, p := range append(probePaths(t), "/v2", "/v2/models/"+model, "/v2/models/"+model+"/ready") {
		resp, err := http.Get(url + p)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", p)
	}

	ref, err := hub.LoadContext(context.Background(), model, hub.WithCache(t.TempDir()))
	require.NoError(t, err)
	for i := range 4 {
		img := testImage(28, i)
		want, err := ref.Classify(context.Background(), img, 1)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, png.Encode(&buf, img))
		resp, err := http.Post(url+"/v1/models/"+model+"/classify?top_k=1", "image/png", &buf)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode, "%s", body)
		var got struct {
			Predictions [][]hub.Prediction `json:"predictions"`
		}
		require.NoError(t, json.Unmarshal(body, &got))
		require.Len(t, got.Predictions, 1)
		require.Len(t, got.Predictions[0], 1)
		assert.Equal(t, want[0].Index, got.Predictions[0][0].Index, "image %d", i)
		assert.InDelta(t, want[0].Probability, got.Predictions[0][0].Probability, 1e-4, "image %d", i)
	}

	// The weights went to the cache volume and nowhere else.
	e, err := ref.Info(), nil
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(cacheVol, e.Weights.SHA256+".onnx"))
	assert.NoError(t, err, "the weights are cached on the volume")
	for dir, want := range map[string][]string{app: {"zoo-serve"}, cacheParent: {"fmixzoo"}} {
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		assert.Equal(t, want, names, "nothing written to %s", dir)
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-done:
		assert.NoError(t, err, "clean exit on SIGTERM")
		done <- err
	case <-time.After(40 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}

// testImage is a size×size grey pattern, different for each seed.
func testImage(size, seed int) image.Image {
	img := image.NewGray(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			img.SetGray(x, y, color.Gray{Y: uint8((x*(seed+3) + y*(7-seed)*5 + seed*40) % 256)})
		}
	}
	return img
}
