package hub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fmixzoo/zoo/internal/atomicfile"
)

// ErrChecksum is matched (errors.Is) by every *ChecksumError.
var ErrChecksum = errors.New("checksum mismatch")

// ErrOffline is returned (wrapped) when offline mode needs a file the cache lacks.
var ErrOffline = errors.New("offline and not in cache")

// ChecksumError reports weights whose size or sha256 differ from the
// manifest's. The offending file has been removed; it was never evaluated.
type ChecksumError struct {
	What               string // object key or cache path
	WantSHA256, SHA256 string // SHA256 is empty when the size already differed
	WantSize, Size     int64
}

func (e *ChecksumError) Error() string {
	if e.Size != e.WantSize {
		return fmt.Sprintf("%s: %v: %d bytes, want %d", e.What, ErrChecksum, e.Size, e.WantSize)
	}
	return fmt.Sprintf("%s: %v: sha256 %s, want %s", e.What, ErrChecksum, e.SHA256, e.WantSHA256)
}

// Is makes errors.Is(err, ErrChecksum) true.
func (e *ChecksumError) Is(target error) bool { return target == ErrChecksum }

// Digest pins a file's content: its sha256 (lower-case hex) and size.
type Digest struct {
	SHA256 string
	Size   int64
}

// Cache is a directory of verified weights files named by their sha256.
// A file enters it only through a temporary file that was hashed, synced
// and renamed; every read re-hashes it. Concurrent fetches of one digest
// are merged within a process and serialised between processes by a lock
// file. Use OpenCache; caches of the same directory share their state.
type Cache struct {
	dir string

	mu       sync.Mutex
	inflight map[string]*flight
}

type flight struct {
	done chan struct{}
	data []byte
	err  error
}

var (
	cachesMu sync.Mutex
	caches   = map[string]*Cache{}
)

// OpenCache returns the cache in dir, creating the directory.
func OpenCache(dir string) (*Cache, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("hub: open cache %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("hub: open cache: %w", err)
	}
	cachesMu.Lock()
	defer cachesMu.Unlock()
	if c, ok := caches[abs]; ok {
		return c, nil
	}
	c := &Cache{dir: abs, inflight: map[string]*flight{}}
	caches[abs] = c
	return c, nil
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// Path is where the cache keeps the file of digest d.
func (c *Cache) Path(d Digest) string { return filepath.Join(c.dir, d.SHA256+".onnx") }

// Read is ReadContext with context.Background().
func (c *Cache) Read(d Digest) ([]byte, error) { return c.ReadContext(context.Background(), d) }

// errBadEntry marks a cache entry that is not a regular file (a symlink, a
// FIFO, a device): it is removed, never read, and fetched again like a
// corrupt one.
var errBadEntry = errors.New("bad cache entry")

// ReadContext returns the cached file of d after checking its size and
// sha256. It opens the file without following a symlink or blocking on a
// FIFO, reads only a regular file of exactly d.Size bytes, and stops when
// ctx ends. A missing file gives an error matching fs.ErrNotExist; a file
// that fails a check is removed and a *ChecksumError (or, for what is not a
// regular file, an error matching errBadEntry) returned.
func (c *Cache) ReadContext(ctx context.Context, d Digest) ([]byte, error) {
	if !hexRE.MatchString(d.SHA256) {
		return nil, fmt.Errorf("hub: cache: bad sha256 %q", d.SHA256)
	}
	if d.Size < 0 {
		return nil, fmt.Errorf("hub: cache: negative size %d", d.Size)
	}
	p := c.Path(d)
	data, err := readEntry(ctx, p, d)
	if errors.Is(err, errBadEntry) || errors.Is(err, ErrChecksum) {
		os.Remove(p)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if err := verify(p, data, d); err != nil {
		os.Remove(p)
		return nil, err
	}
	return data, nil
}

// readEntry reads the regular file at p, which must hold d.Size bytes, in
// chunks, checking ctx between them.
func readEntry(ctx context.Context, p string, d Digest) ([]byte, error) {
	size := d.Size
	f, err := openNoFollow(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errBadEntry, p, err) // ELOOP: a symlink
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("hub: cache: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file (%v)", errBadEntry, p, st.Mode().Type())
	}
	if st.Size() != size {
		return nil, &ChecksumError{What: p, WantSHA256: d.SHA256, WantSize: size, Size: st.Size()}
	}
	data := make([]byte, size)
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("hub: cache: read %s: %w", p, err)
		}
		n, err := f.Read(data[off:min(off+4<<20, size)])
		off += int64(n)
		if err == io.EOF && off < size {
			return nil, fmt.Errorf("%w: %s shrank to %d bytes while read, want %d", errBadEntry, p, off, size)
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("hub: cache: read %s: %w", p, err)
		}
	}
	return data, nil
}

func verify(what string, data []byte, d Digest) error {
	if int64(len(data)) != d.Size {
		return &ChecksumError{What: what, WantSHA256: d.SHA256, WantSize: d.Size, Size: int64(len(data))}
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != d.SHA256 {
		return &ChecksumError{What: what, WantSHA256: d.SHA256, SHA256: got, WantSize: d.Size, Size: d.Size}
	}
	return nil
}

// Opener opens the object to download; size is -1 when unknown.
type Opener func(ctx context.Context) (rc io.ReadCloser, size int64, err error)

// FetchOptions tune Cache.Fetch. The zero value is usable.
type FetchOptions struct {
	What     string // object name for messages and the progress bar
	Offline  bool   // never call open; a miss is ErrOffline
	Retries  int    // attempts after the first on transient errors; <0: none; 0: 4
	Backoff  time.Duration
	Stall    time.Duration // abort an attempt after this long without a byte; 0: 60 s
	Progress io.Writer     // nil: none
	Logger   *slog.Logger  // nil: none
}

// Fetch returns the verified content of d, from the cache when it holds a
// good copy, else downloaded through open into the cache. A bad cached copy
// is removed and fetched again.
func (c *Cache) Fetch(ctx context.Context, d Digest, open Opener, o FetchOptions) ([]byte, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	data, err := c.ReadContext(ctx, d)
	if err == nil {
		return data, nil
	}
	var cerr *ChecksumError
	var bad error // the cached copy, removed: corrupt or not a regular file of the right size
	if errors.As(err, &cerr) || errors.Is(err, errBadEntry) {
		bad = err
		o.Logger.Warn("hub: cached weights failed verification; removed", "name", o.What, "path", c.Path(d), "err", err)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read cache: %w", err)
	}
	if o.Offline {
		if bad != nil {
			return nil, fmt.Errorf("%w: %s (the cached copy was corrupt and has been removed: %w)", ErrOffline, c.Path(d), bad)
		}
		return nil, fmt.Errorf("%w: %s is not in the cache %s; run once without ZOO_OFFLINE or copy the file there", ErrOffline, o.What, c.dir)
	}

	c.mu.Lock()
	if f, ok := c.inflight[d.SHA256]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			if f.err != nil && ctx.Err() == nil &&
				(errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
				return c.Fetch(ctx, d, open, o) // the leader gave up; we have not
			}
			return f.data, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	c.inflight[d.SHA256] = f
	c.mu.Unlock()

	f.data, f.err = c.fetchLocked(ctx, d, open, o)
	c.mu.Lock()
	delete(c.inflight, d.SHA256)
	c.mu.Unlock()
	close(f.done)
	return f.data, f.err
}

// fetchLocked takes the inter-process lock, re-checks the cache and downloads.
func (c *Cache) fetchLocked(ctx context.Context, d Digest, open Opener, o FetchOptions) ([]byte, error) {
	unlock, err := lockFile(ctx, filepath.Join(c.dir, d.SHA256+".lock"))
	if err != nil {
		return nil, fmt.Errorf("lock cache: %w", err)
	}
	defer unlock()
	if data, err := c.ReadContext(ctx, d); err == nil {
		return data, nil // another process fetched it
	}
	// We hold the lock: temporaries of this digest are leftovers of a crash.
	for _, p := range atomicfile.Leftovers(c.Path(d)) {
		os.Remove(p)
	}

	retries, backoff := o.Retries, o.Backoff
	if retries == 0 {
		retries = 4
	}
	if backoff <= 0 {
		backoff = 250 * time.Millisecond
	}
	for attempt := 0; ; attempt++ {
		data, err := c.download(ctx, d, open, o)
		if err == nil {
			return data, nil
		}
		if !IsTransient(err) || attempt >= retries || ctx.Err() != nil {
			if attempt > 0 {
				return nil, fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return nil, err
		}
		wait := min(backoff<<attempt, 10*time.Second)
		wait = wait/2 + rand.N(wait) // jitter in [wait/2, 3wait/2)
		o.Logger.Warn("hub: download failed; retrying", "name", o.What, "attempt", attempt+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (while waiting to retry after: %w)", ctx.Err(), err)
		}
	}
}

var errStalled = errors.New("download stalled")

// download streams one attempt into a temporary file while hashing it, and
// renames the file into place only when size and sha256 match.
func (c *Cache) download(ctx context.Context, d Digest, open Opener, o FetchOptions) (_ []byte, err error) {
	stall := o.Stall
	if stall <= 0 {
		stall = 60 * time.Second
	}
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer watchdog.Stop()
	defer func() {
		if err != nil && context.Cause(actx) == errStalled && ctx.Err() == nil {
			err = &transientError{fmt.Errorf("download %s: %w: no data for %v", o.What, errStalled, stall)}
		}
	}()

	rc, size, err := open(actx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size >= 0 && size != d.Size {
		return nil, &ChecksumError{What: o.What, WantSHA256: d.SHA256, WantSize: d.Size, Size: size}
	}

	buf := bytes.NewBuffer(make([]byte, 0, d.Size))
	h := sha256.New()
	var bar *progressBar
	if o.Progress != nil {
		bar = newProgressBar(o.Progress, o.What, d.Size)
	}
	chunk := make([]byte, 256<<10)
	var n int64
	err = atomicfile.WriteFunc(c.Path(d), 0o644, func(w io.Writer) error {
		for {
			k, rerr := rc.Read(chunk)
			if k > 0 {
				watchdog.Reset(stall)
				if n+int64(k) > d.Size {
					return &ChecksumError{What: o.What, WantSHA256: d.SHA256, WantSize: d.Size, Size: n + int64(k)}
				}
				buf.Write(chunk[:k])
				h.Write(chunk[:k])
				if _, err := w.Write(chunk[:k]); err != nil {
					return fmt.Errorf("cache: write %s: %w", c.Path(d), err)
				}
				n += int64(k)
				bar.update(n)
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("download %s: %w", o.What, ctx.Err())
				}
				return fmt.Errorf("download %s after %d bytes: %w", o.What, n, rerr)
			}
			if err := actx.Err(); err != nil {
				return fmt.Errorf("download %s: %w", o.What, context.Cause(actx))
			}
		}
		bar.finish(n)
		if n != d.Size {
			return &ChecksumError{What: o.What, WantSHA256: d.SHA256, WantSize: d.Size, Size: n}
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != d.SHA256 {
			return &ChecksumError{What: o.What, WantSHA256: d.SHA256, SHA256: got, WantSize: d.Size, Size: n}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	o.Logger.Info("hub: downloaded weights", "name", o.What, "bytes", n, "path", c.Path(d))
	return buf.Bytes(), nil
}
