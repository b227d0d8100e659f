package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fmixzoo/zoo/internal/atomicfile"
)

// DirStore is a Store over a local directory. Put writes through a
// temporary file and a rename, so readers never see half an object.
type DirStore struct {
	dir string
}

// NewDirStore returns a store rooted at dir, which must exist.
func NewDirStore(dir string) (*DirStore, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("hub: open store %q: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("hub: open store: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("hub: open store: %s is not a directory", abs)
	}
	return &DirStore{dir: abs}, nil
}

func (s *DirStore) String() string { return "file://" + filepath.ToSlash(s.dir) }

func (s *DirStore) path(key string) (string, error) {
	if err := validateKey(key); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, filepath.FromSlash(key)), nil
}

func fileErr(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%s: %w: %w", key, ErrAccessDenied, err)
	}
	return err
}

// Get implements Store.
func (s *DirStore) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	f, err := os.Open(p)
	return opened(key, f, err)
}

// Stat implements Store.
func (s *DirStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	p, err := s.path(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	st, err := os.Stat(p)
	return statted(key, st, err)
}

// Put implements Store.
func (s *DirStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fileErr(key, err)
	}
	err = atomicfile.WriteFunc(p, 0o644, func(w io.Writer) error {
		n, err := io.Copy(w, ctxReader{ctx, r})
		if err == nil && size >= 0 && n != size {
			err = fmt.Errorf("wrote %d bytes, want %d", n, size)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// List implements Store.
func (s *DirStore) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		rel, err := filepath.Rel(s.dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, ObjectInfo{Key: key, Size: info.Size(), ModTime: info.ModTime()})
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s, err)
	}
	return out, nil
}

// FSStore is a read-only Store over an fs.FS, such as the embedded weights/.
type FSStore struct {
	fsys fs.FS
	name string
}

// NewFSStore returns a read-only store over the directory root of fsys;
// name is what String reports.
func NewFSStore(fsys fs.FS, root, name string) (*FSStore, error) {
	sub, err := fs.Sub(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("hub: open store %s: %w", name, err)
	}
	return &FSStore{fsys: sub, name: name}, nil
}

func (s *FSStore) String() string { return s.name }

// Get implements Store.
func (s *FSStore) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	if err := validateKey(key); err != nil {
		return nil, ObjectInfo{}, err
	}
	f, err := s.fsys.Open(key)
	return opened(key, f, err)
}

// Stat implements Store.
func (s *FSStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := validateKey(key); err != nil {
		return ObjectInfo{}, err
	}
	st, err := fs.Stat(s.fsys, key)
	return statted(key, st, err)
}

// opened finishes a Get of key from the result of opening its file, which
// must be a regular one.
func opened(key string, f fs.File, err error) (io.ReadCloser, ObjectInfo, error) {
	if err != nil {
		return nil, ObjectInfo{}, fileErr(key, err)
	}
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		f.Close()
		return nil, ObjectInfo{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return f, ObjectInfo{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// statted finishes a Stat of key from the result of its file's stat.
func statted(key string, st fs.FileInfo, err error) (ObjectInfo, error) {
	if err != nil {
		return ObjectInfo{}, fileErr(key, err)
	}
	if st.IsDir() {
		return ObjectInfo{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return ObjectInfo{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Put implements Store; it always fails with ErrReadOnly.
func (s *FSStore) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	return fmt.Errorf("put %s in %s: %w", key, s.name, ErrReadOnly)
}

// List implements Store.
func (s *FSStore) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	err := fs.WalkDir(s.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasPrefix(p, prefix) || strings.HasPrefix(path.Base(p), ".") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, ObjectInfo{Key: p, Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s.name, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
