package torchpt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Tensor is one named tensor of a checkpoint.
type Tensor struct {
	Shape []int     // dimensions, outermost first; empty for a scalar
	DType string    // PyTorch storage dtype: "float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"
	Data  []float32 // row-major values converted to float32; len = product of Shape
}

// Errors callers may branch on with errors.Is.
var (
	// ErrNotTorch: the file is neither a zip archive nor a legacy torch file.
	ErrNotTorch = errors.New("neither a zip archive nor a legacy torch file")
	// ErrMalformed: the file is a torch file but its structure is broken
	// (truncated, inconsistent sizes, bad pickle).
	ErrMalformed = errors.New("malformed checkpoint")
	// ErrForbidden: the pickle names a global outside the allowed list;
	// the error is a *ForbiddenError that says which.
	ErrForbidden = errors.New("forbidden global in pickle")
	// ErrNotStateDict: the file decodes, but is not a mapping of names to
	// tensors (nor one wrapped in 'state_dict' or 'model').
	ErrNotStateDict = errors.New("not a state dict")
	// ErrUnsupported: a valid file using a feature this reader lacks
	// (tar-era legacy files, storage views, exotic dtypes, pickle extensions).
	ErrUnsupported = errors.New("unsupported checkpoint feature")
)

// ForbiddenError reports a global the pickle asked for and was refused:
// loading it in Python could run arbitrary code.
type ForbiddenError struct {
	Module, Name string
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("pickle refers to %s.%s, which is not allowed: a checkpoint may hold only tensors and containers (refused, nothing executed)", e.Module, e.Name)
}

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (e *ForbiddenError) Unwrap() error { return ErrForbidden }

// maxPickle bounds the size of a zip archive's data.pkl (a ResNet-50's
// is about 40 KB; the unpickler's own limits bound what it builds).
const maxPickle = 64 << 20

// Limits bound what ReadLimited may allocate for the tensors of one
// checkpoint. A zero field takes its default, derived from the file size.
type Limits struct {
	// MaxElements bounds the elements of all tensors read, together.
	// Default: two per byte of the file, plus 64Ki (a float32 tensor
	// takes four bytes of a checkpoint per element; the slack covers
	// small integer dtypes and storages shared between tensors).
	MaxElements int64
	// MaxStorageBytes bounds the bytes of the storages those tensors
	// read, together, before any is allocated. Default: twice the file
	// size plus 64 MiB (torch stores storages uncompressed; the margin
	// admits a hand-deflated archive of mostly zero weights, not a
	// gigabyte storage inflated from a few kilobytes).
	MaxStorageBytes int64
}

func (l Limits) withDefaults(size int64) Limits {
	if l.MaxElements <= 0 {
		l.MaxElements = 2*size + 1<<16
	}
	if l.MaxStorageBytes <= 0 {
		l.MaxStorageBytes = 2*size + 64<<20
	}
	return l
}

// Read decodes a PyTorch checkpoint of size bytes: a state dict, possibly
// wrapped as {'state_dict': sd, ...} or {'model': sd, ...}, with any
// 'module.' key prefix (DataParallel) removed. The map is keyed by the
// state-dict names.
//
// Malformed or hostile input gives an error, never a panic; see the
// package documentation for what is refused. Read applies the default
// Limits; a caller that knows how many parameters it expects should use
// ReadLimited.
func Read(r io.ReaderAt, size int64) (m map[string]Tensor, err error) {
	return ReadLimited(r, size, Limits{})
}

// ReadLimited is Read with explicit bounds on the tensors' elements and
// storage bytes: a checkpoint for an architecture of P parameters and
// buffers needs at most P elements, and 8·P storage bytes (float64).
func ReadLimited(r io.ReaderAt, size int64, lim Limits) (m map[string]Tensor, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("torchpt: %w: decoder failure: %v", ErrMalformed, p)
		}
	}()
	return read(r, size, lim)
}

// read is ReadLimited without the panic guard, so that fuzzing sees panics.
func read(r io.ReaderAt, size int64, lim Limits) (map[string]Tensor, error) {
	if size < 0 {
		return nil, fmt.Errorf("torchpt: %w: negative size %d", ErrMalformed, size)
	}
	head := make([]byte, min(size, 512))
	if n, err := r.ReadAt(head, 0); n < len(head) {
		return nil, fmt.Errorf("torchpt: read header: %w", err)
	}
	var (
		format = "zip file"
		decode = readZip
	)
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return nil, fmt.Errorf("torchpt: %w: tar-format legacy checkpoint (torch < 0.4)", ErrUnsupported)
	case len(head) > 0 && head[0] == 0x80:
		format, decode = "legacy file", readLegacy
	default:
		return nil, fmt.Errorf("torchpt: %w", ErrNotTorch)
	}
	root, order, err := decode(r, size)
	if err != nil {
		return nil, annotate(format, err)
	}
	m, err := collect(root, order, size, lim.withDefaults(size))
	if err != nil {
		return nil, annotate(format, err)
	}
	return m, nil
}

// annotate prefixes err and adds ErrMalformed unless it already carries a
// more specific sentinel.
func annotate(format string, err error) error {
	for _, s := range []error{ErrNotTorch, ErrMalformed, ErrForbidden, ErrNotStateDict, ErrUnsupported} {
		if errors.Is(err, s) {
			return fmt.Errorf("torchpt: %s: %w", format, err)
		}
	}
	return fmt.Errorf("torchpt: %s: %w: %w", format, ErrMalformed, err)
}

// stateDict finds the name → tensor mapping in the unpickled root.
func stateDict(root any) (*pyDict, error) {
	d, ok := root.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("%w: the file holds a %s, not a dict of tensors", ErrNotStateDict, typeName(root))
	}
	for range 2 {
		inner, ok := d.get("state_dict")
		if !ok {
			inner, ok = d.get("model")
		}
		id, isDict := inner.(*pyDict)
		if !ok || !isDict {
			break
		}
		d = id
	}
	return d, nil
}

// collect validates the state dict and materialises its tensors.
func collect(root any, order binary.ByteOrder, size int64, lim Limits) (map[string]Tensor, error) {
	d, err := stateDict(root)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(d.keys))
	refs := make([]*tensorRef, len(d.keys))
	lastUse := map[*storageRef]int{}
	for i, k := range d.keys {
		name, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("%w: key %s is not a string", ErrNotStateDict, describe(k))
		}
		t, ok := d.vals[i].(*tensorRef)
		if !ok {
			return nil, fmt.Errorf("%w: %s holds a %s, not a tensor", ErrNotStateDict, describe(name), typeName(d.vals[i]))
		}
		names[i] = strings.TrimPrefix(name, "module.")
		refs[i] = t
		lastUse[t.storage] = i
	}

	// Every element materialised is at least one byte of the file, except
	// for views sharing a storage; allow some sharing but no stride-0
	// blow-ups from a tiny hostile file, and no storage bytes beyond the
	// limit (checked before each storage is read).
	budget, storageBudget := lim.MaxElements, lim.MaxStorageBytes
	out := make(map[string]Tensor, len(names))
	raw := map[*storageRef][]byte{}
	for i, t := range refs {
		if _, dup := out[names[i]]; dup {
			return nil, fmt.Errorf("%w: key %s appears twice (after removing 'module.')", ErrNotStateDict, describe(names[i]))
		}
		n := t.numel()
		if n > budget {
			return nil, fmt.Errorf("%s: %d elements exceed the %d left of the limit for a %d-byte file (%d in all)",
				describe(names[i]), n, budget, size, lim.MaxElements)
		}
		budget -= n
		b, ok := raw[t.storage]
		if !ok {
			if t.storage.load == nil {
				return nil, fmt.Errorf("%q: storage %s: %w", names[i], t.storage.key, errNoStorage)
			}
			nbytes := t.storage.numel * t.storage.dtype.size
			if nbytes > storageBudget {
				return nil, fmt.Errorf("%s: storage %s of %d bytes exceeds the %d bytes left of the storage limit (%d in all)",
					describe(names[i]), describe(t.storage.key), nbytes, storageBudget, lim.MaxStorageBytes)
			}
			storageBudget -= nbytes
			if b, err = t.storage.load(); err != nil {
				return nil, fmt.Errorf("%q: storage %s: %w", names[i], t.storage.key, err)
			}
			raw[t.storage] = b
		}
		data, err := t.materialize(b, order)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", names[i], err)
		}
		if lastUse[t.storage] == i {
			delete(raw, t.storage) // let the bytes go
		}
		shape := make([]int, len(t.shape))
		for j, s := range t.shape {
			if int64(int(s)) != s {
				return nil, fmt.Errorf("%q: dimension %d too large", names[i], s)
			}
			shape[j] = int(s)
		}
		out[names[i]] = Tensor{Shape: shape, DType: t.storage.dtype.name, Data: data}
	}
	return out, nil
}

// storageTable resolves torch's persistent ids to storages.
type storageTable struct {
	refs     map[string]*storageRef
	maxBytes int64 // no storage can be larger than the file (after compression limits)
}

func newStorageTable(maxBytes int64) *storageTable {
	return &storageTable{refs: map[string]*storageRef{}, maxBytes: maxBytes}
}

// persistentLoad handles ('storage', torch.XStorage, key, location, numel)
// and the legacy form with a sixth view_metadata element (None only).
func (s *storageTable) persistentLoad(pid any) (any, error) {
	t, ok := pid.(pyTuple)
	if !ok || len(t) == 0 {
		return nil, fmt.Errorf("persistent id is a %s, not a tuple", typeName(pid))
	}
	if kind, _ := t[0].(string); kind != "storage" {
		return nil, fmt.Errorf("%w: persistent id of kind %s", ErrUnsupported, describe(t[0]))
	}
	if len(t) != 5 && len(t) != 6 {
		return nil, fmt.Errorf("storage persistent id has %d fields", len(t))
	}
	typ, ok := t[1].(pyType)
	dt, known := storageTypes[typ.name]
	if !ok || typ.module != "torch" || !known {
		return nil, fmt.Errorf("storage type is %s", describe(t[1]))
	}
	key, ok := t[2].(string)
	if !ok {
		return nil, fmt.Errorf("storage key is a %s", typeName(t[2]))
	}
	numel, ok := t[4].(int64)
	if !ok {
		return nil, fmt.Errorf("storage %s: element count is a %s", key, typeName(t[4]))
	}
	if len(t) == 6 {
		if _, none := t[5].(pyNone); !none {
			return nil, fmt.Errorf("%w: storage views (legacy view_metadata)", ErrUnsupported)
		}
	}
	nbytes, err := storageBytes(numel, dt)
	if err != nil || nbytes > s.maxBytes {
		return nil, fmt.Errorf("storage %s: %d elements of %s cannot fit in the file", key, numel, dt.name)
	}
	if ref, ok := s.refs[key]; ok {
		if ref.dtype != dt || ref.numel != numel {
			return nil, fmt.Errorf("storage %s named with two types or sizes", key)
		}
		return ref, nil
	}
	ref := &storageRef{key: key, dtype: dt, numel: numel}
	s.refs[key] = ref
	return ref, nil
}
