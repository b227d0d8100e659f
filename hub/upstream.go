package hub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/fmixzoo/zoo/zoo"

	"github.com/fmixzoo/zoo/internal/atomicfile"
)

// The published FMix checkpoints are PyTorch state dicts served over plain
// HTTP with no published hashes. ImportPyTorch fetches one, converts it to
// ONNX with the zoo's importer (no Python) and records, trust-on-first-use,
// the sha256 of both files: later loads are verified against the record
// and work offline, and a different file under the same URL is refused
// unless UpstreamOptions.TrustNew (ZOO_TRUST_NEW=1).

// ErrUpstreamChanged reports an upstream checkpoint whose bytes differ from
// the ones recorded when it was first downloaded.
var ErrUpstreamChanged = errors.New("upstream checkpoint changed since first use")

// Environment variables of the upstream import, read by FromEnv into
// UpstreamOptions.
const (
	EnvUpstream       = "ZOO_UPSTREAM"        // Base: replaces Upstream.Base (mirrors, tests)
	EnvUpstreamRepeat = "ZOO_UPSTREAM_REPEAT" // Repeat: which of an entry's repeats (default 0)
	EnvTrustNew       = "ZOO_TRUST_NEW"       // TrustNew (1): accept a changed upstream file and record it
	EnvPush           = "ZOO_PUSH"            // Push (1): write the converted ONNX into the store
)

// UpstreamOptions configure ImportPyTorch (through ImportEnv).
type UpstreamOptions struct {
	// Base replaces every entry's Upstream.Base: a mirror. It may carry
	// user:password, which no message, log line or record shows.
	Base string
	// Repeat selects which of an entry's runs (Upstream.Repeats) is fetched.
	Repeat int
	// TrustNew accepts, and records, an upstream file whose sha256 differs
	// from the one recorded when it was first downloaded.
	TrustNew bool
	// Push writes the converted ONNX into ImportEnv.Store (Publish, with
	// no manifest file).
	Push bool
}

// upstreamRecord is what the cache remembers of one converted checkpoint.
type upstreamRecord struct {
	Name        string    `json:"name"`
	URL         string    `json:"url"`
	SourceSHA   string    `json:"source_sha256"`
	SourceSize  int64     `json:"source_size"`
	ONNXSHA     string    `json:"onnx_sha256"`
	ONNXSize    int64     `json:"onnx_size"`
	FirstSeen   time.Time `json:"first_seen"`
	ConvertSecs float64   `json:"convert_seconds"`
}

// ImportPyTorch is the default Importer: download the entry's upstream
// checkpoint, import it as the entry's architecture, export ONNX, cache it.
func ImportPyTorch(ctx context.Context, e Entry, env ImportEnv) ([]byte, error) {
	if e.Upstream == nil {
		return nil, fmt.Errorf("%s has no upstream checkpoint", e.Name)
	}
	repeat := env.Upstream.Repeat
	if repeat < 0 || (e.Upstream.Repeats > 0 && repeat >= e.Upstream.Repeats) {
		return nil, fmt.Errorf("%s=%d: want a repeat in 0..%d", EnvUpstreamRepeat, repeat, max(e.Upstream.Repeats-1, 0))
	}
	// src may carry user:password (a mirror in ZOO_UPSTREAM); url, which
	// every message, log line, record and ONNX metadata uses, does not.
	src := e.Upstream.URL(env.Upstream.Base, repeat)
	url := stripUserinfo(src)
	recPath := filepath.Join(env.Cache.Dir(), "upstream", fmt.Sprintf("%s-r%d.json", e.Name, repeat))
	rec, haveRec := readRecord(recPath)
	if haveRec && rec.URL == url {
		if data, err := env.Cache.Read(Digest{SHA256: rec.ONNXSHA, Size: rec.ONNXSize}); err == nil {
			return data, nil
		}
	}
	if env.Offline {
		return nil, fmt.Errorf("%w: %s has not been converted on this machine yet (run once online, or `zoo-train pull %s`)", ErrOffline, e.Name, e.Name)
	}
	start := time.Now()
	pt, sum, err := downloadTemp(ctx, env, src, env.Cache.Dir(), e.Name)
	if err != nil {
		return nil, err
	}
	defer os.Remove(pt.Name())
	defer pt.Close()
	if e.Upstream.SHA256 != "" && e.Upstream.SHA256 != sum {
		return nil, &ChecksumError{What: url, WantSHA256: e.Upstream.SHA256, SHA256: sum}
	}
	if haveRec && rec.URL == url && rec.SourceSHA != sum && !env.Upstream.TrustNew {
		return nil, fmt.Errorf("%w: %s was %s when first downloaded on %s and is now %s; set %s=1 to accept the new file",
			ErrUpstreamChanged, url, rec.SourceSHA, rec.FirstSeen.Format(time.RFC3339), sum, EnvTrustNew)
	}
	st, err := pt.Stat()
	if err != nil {
		return nil, err
	}
	net, err := zoo.ImportPT(e.Arch, e.Args, pt, st.Size())
	if err != nil {
		return nil, fmt.Errorf("convert %s: %w", url, err)
	}
	meta, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var onnx bytes.Buffer
	if err := net.ExportONNX(&onnx, map[string]string{MetadataEntryKey: string(meta), "name": e.Name, "source": url, "source_sha256": sum}); err != nil {
		return nil, fmt.Errorf("convert %s: %w", url, err)
	}
	data := onnx.Bytes()
	osum := sha256.Sum256(data)
	d := Digest{SHA256: hex.EncodeToString(osum[:]), Size: int64(len(data))}
	if _, err := env.Cache.Fetch(ctx, d, func(context.Context) (io.ReadCloser, int64, error) {
		return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
	}, FetchOptions{What: e.Name}); err != nil {
		return nil, fmt.Errorf("cache the converted ONNX: %w", err)
	}
	first := time.Now().UTC()
	if haveRec && rec.SourceSHA == sum {
		first = rec.FirstSeen
	}
	nr := upstreamRecord{Name: e.Name, URL: url, SourceSHA: sum, SourceSize: st.Size(), ONNXSHA: d.SHA256, ONNXSize: d.Size,
		FirstSeen: first, ConvertSecs: time.Since(start).Seconds()}
	if err := writeRecord(recPath, nr); err != nil {
		return nil, err
	}
	if env.Logger != nil {
		env.Logger.Info("hub: converted upstream checkpoint", "name", e.Name, "url", url, "source_sha256", sum,
			"onnx_sha256", d.SHA256, "seconds", nr.ConvertSecs)
	}
	if env.Upstream.Push && env.Store != nil {
		if _, err := Publish(ctx, env.Store, "", e, data); err != nil {
			return nil, fmt.Errorf("push the converted ONNX: %w", err)
		}
	}
	return data, nil
}

// downloadTemp fetches src into a temporary file in dir, hashing it, and
// checks the length against Content-Length. Its errors name src without
// userinfo; network failures and 5xx/429 answers are transient
// (IsTransient), 404 is ErrNotFound and 401/403 ErrAccessDenied.
func downloadTemp(ctx context.Context, env ImportEnv, src, dir, what string) (*os.File, string, error) {
	client := env.HTTPClient
	if client == nil {
		client = defaultHTTPClient()
	}
	url := stripUserinfo(src)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, "", fmt.Errorf("upstream %s: %w", url, unwrapURLError(err))
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("download %s: %w", url, ctx.Err())
		}
		return nil, "", &transientError{fmt.Errorf("download %s: upstream unreachable: %w", url, unwrapURLError(err))}
	}
	defer resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
	case code == http.StatusNotFound:
		return nil, "", fmt.Errorf("download %s: %w (HTTP 404)", url, ErrNotFound)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return nil, "", fmt.Errorf("download %s: HTTP %s: %w", url, resp.Status, ErrAccessDenied)
	case code >= 500 || code == http.StatusTooManyRequests:
		return nil, "", &transientError{fmt.Errorf("download %s: upstream answered HTTP %s", url, resp.Status)}
	default:
		return nil, "", fmt.Errorf("download %s: HTTP %s", url, resp.Status)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	f, err := os.CreateTemp(dir, ".upstream-*.pt")
	if err != nil {
		return nil, "", err
	}
	fail := func(err error) (*os.File, string, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, "", err
	}
	h := sha256.New()
	var bar *progressBar
	if env.Progress != nil {
		bar = newProgressBar(env.Progress, what, resp.ContentLength)
	}
	n, err := io.Copy(io.MultiWriter(f, h), &progressReader{r: resp.Body, bar: bar})
	bar.finish(n)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fail(fmt.Errorf("download %s: truncated: got %d of %d bytes: %w", url, n, resp.ContentLength, err))
	}
	if err != nil {
		return fail(fmt.Errorf("download %s: %w", url, unwrapURLError(err)))
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fail(fmt.Errorf("download %s: truncated: got %d of %d bytes", url, n, resp.ContentLength))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	return f, hex.EncodeToString(h.Sum(nil)), nil
}

type progressReader struct {
	r   io.Reader
	bar *progressBar
	n   int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	p.bar.update(p.n)
	return n, err
}

func readRecord(path string) (upstreamRecord, bool) {
	var r upstreamRecord
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &r) != nil || !hexRE.MatchString(r.ONNXSHA) {
		return upstreamRecord{}, false
	}
	return r, true
}

func writeRecord(path string, r upstreamRecord) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o644)
}

// stripUserinfo returns s without the user:password part of its URL, for
// everything that is logged, stored or returned.
func stripUserinfo(s string) string {
	u, err := neturl.Parse(s)
	if err != nil {
		return redactURL(s)
	}
	if u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}
