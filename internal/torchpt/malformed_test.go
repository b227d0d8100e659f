package torchpt

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pk assembles protocol-2 pickles for hand-made (often hostile) inputs.
type pk struct{ bytes.Buffer }

func (p *pk) op(b ...byte) *pk { p.Write(b); return p }
func (p *pk) str(s string) *pk {
	p.op('X')
	binary.Write(&p.Buffer, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
	return p
}
func (p *pk) int(v int32) *pk {
	p.op('J')
	binary.Write(&p.Buffer, binary.LittleEndian, v)
	return p
}
func (p *pk) long(v int64) *pk {
	p.op(0x8a, 8)
	binary.Write(&p.Buffer, binary.LittleEndian, v)
	return p
}
func (p *pk) global(mod, name string) *pk {
	p.op('c')
	p.WriteString(mod + "\n" + name + "\n")
	return p
}
func (p *pk) ints(vs ...int32) *pk {
	p.op('(')
	for _, v := range vs {
		p.int(v)
	}
	return p.op('t')
}

// tensor pushes _rebuild_tensor_v2(storage key "0" of numel floats, offset, size, stride).
func (p *pk) tensor(numel, offset int32, size, stride []int32) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2").op('(')
	p.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(numel).op('t', 'Q')
	p.int(offset).ints(size...).ints(stride...).op(0x89)
	p.global("collections", "OrderedDict").op(')', 'R')
	return p.op('t', 'R')
}

// stateDict wraps body (which pushes one value) as {'w': value}.
func stateDictPickle(body func(p *pk)) []byte {
	p := &pk{}
	p.op(0x80, 2, '}').str("w")
	body(p)
	p.op('s', '.')
	return p.Bytes()
}

// zipCheckpoint builds a torch zip archive from a pickle and storage "0",
// stored uncompressed as torch writes them.
func zipCheckpoint(t testing.TB, pkl []byte, storage []byte, byteorder string) []byte {
	t.Helper()
	entries := []zipEntry{{"archive/data.pkl", pkl}}
	if byteorder != "" {
		entries = append(entries, zipEntry{"archive/byteorder", []byte(byteorder)})
	}
	if storage != nil {
		entries = append(entries, zipEntry{"archive/data/0", storage})
	}
	return writeZip(t, zip.Store, entries)
}

type zipEntry struct {
	name string
	data []byte
}

// writeZip builds a zip archive of entries, in order, each compressed with
// method (zip.Store, or zip.Deflate at flate.BestSpeed).
func writeZip(t testing.TB, method uint16, entries []zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
		require.NoError(t, err)
		_, err = w.Write(e.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func floats(order binary.ByteOrder, vs ...float32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		order.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func readBytes(b []byte) (map[string]Tensor, error) {
	return Read(bytes.NewReader(b), int64(len(b)))
}

func TestHandMadeValid(t *testing.T) {
	tests := []struct {
		name      string
		order     binary.ByteOrder
		byteorder string
		size      []int32
		stride    []int32
		offset    int32
		want      []float32
	}{
		{"contiguous", binary.LittleEndian, "", []int32{2, 2}, []int32{2, 1}, 0, []float32{1, 2, 3, 4}},
		{"transposed", binary.LittleEndian, "little", []int32{2, 2}, []int32{1, 2}, 0, []float32{1, 3, 2, 4}},
		{"offset", binary.LittleEndian, "", []int32{2}, []int32{1}, 2, []float32{3, 4}},
		{"expanded", binary.LittleEndian, "", []int32{3}, []int32{0}, 1, []float32{2, 2, 2}},
		{"big endian", binary.BigEndian, "big", []int32{4}, []int32{1}, 0, []float32{1, 2, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkl := stateDictPickle(func(p *pk) { p.tensor(4, tt.offset, tt.size, tt.stride) })
			m, err := readBytes(zipCheckpoint(t, pkl, floats(tt.order, 1, 2, 3, 4), tt.byteorder))
			require.NoError(t, err)
			assert.Equal(t, tt.want, m["w"].Data)
		})
	}
}

func TestHandMadeRefused(t *testing.T) {
	four := floats(binary.LittleEndian, 1, 2, 3, 4)
	tests := []struct {
		name    string
		file    []byte
		is      error
		message string
	}{
		{"empty file", nil, ErrNotTorch, "neither"},
		{"text file", []byte("hello"), ErrNotTorch, "neither"},
		{"tar legacy", append(make([]byte, 257), []byte("ustar\x0000")...), ErrUnsupported, "tar"},
		{"zip without data.pkl", func() []byte {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, _ := zw.Create("x/y")
			w.Write([]byte("z"))
			zw.Close()
			return buf.Bytes()
		}(), ErrNotTorch, "data.pkl"},
		{"stride-0 blow-up", zipCheckpoint(t, stateDictPickle(func(p *pk) {
			p.tensor(4, 0, []int32{1 << 30, 1 << 10}, []int32{0, 0})
		}), four, ""), ErrMalformed, "exceed"},
		{"view past storage", zipCheckpoint(t, stateDictPickle(func(p *pk) {
			p.tensor(4, 2, []int32{3}, []int32{1})
		}), four, ""), ErrMalformed, "reaches element 4"},
		{"stride overflow", zipCheckpoint(t, stateDictPickle(func(p *pk) {
			p.global("torch._utils", "_rebuild_tensor").op('(')
			p.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(4).op('t', 'Q')
			p.int(0).op('(').long(1<<40).op('t', '(').long(1<<40).op('t', 't', 'R')
		}), four, ""), ErrMalformed, "too large"},
		{"storage larger than entry", zipCheckpoint(t, stateDictPickle(func(p *pk) {
			p.tensor(4, 0, []int32{4}, []int32{1})
		}), four[:8], ""), ErrMalformed, "16 bytes expected"},
		{"storage entry missing", zipCheckpoint(t, stateDictPickle(func(p *pk) {
			p.tensor(4, 0, []int32{4}, []int32{1})
		}), nil, ""), ErrMalformed, "no entry"},
		{"huge storage claim", zipCheckpoint(t, stateDictPickle(func(p *pk) {
			p.tensor(math.MaxInt32, 0, []int32{1}, []int32{1})
		}), four, ""), ErrMalformed, "cannot fit in the file"},
		{"bad byteorder", zipCheckpoint(t, stateDictPickle(func(p *pk) {
			p.tensor(4, 0, []int32{4}, []int32{1})
		}), four, "middle"), ErrMalformed, "byteorder"},
		{"huge string length", zipCheckpoint(t, append([]byte{0x80, 2, 0x8d}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f), nil, ""),
			ErrMalformed, "exceeds"},
		{"unset memo", zipCheckpoint(t, []byte{0x80, 2, 'h', 7, '.'}, nil, ""), ErrMalformed, "memo key 7"},
		{"stack underflow", zipCheckpoint(t, []byte{0x80, 2, 'R', '.'}, nil, ""), ErrMalformed, "underflow"},
		{"unknown opcode", zipCheckpoint(t, []byte{0x80, 2, 0xff, '.'}, nil, ""), ErrMalformed, "unknown pickle opcode"},
		{"no STOP", zipCheckpoint(t, []byte{0x80, 2, '}'}, nil, ""), ErrMalformed, "truncated"},
		{"call a storage type", zipCheckpoint(t, stateDictPickle(func(p *pk) {
			p.global("torch", "FloatStorage").op(')', 'R')
		}), nil, ""), ErrMalformed, "cannot call a type"},
		{"stack global exec", zipCheckpoint(t, stateDictPickle(func(p *pk) {
			p.str("builtins").str("exec").op(0x93).op('(').str("print(1)").op('t', 'R')
		}), nil, ""), ErrForbidden, "builtins.exec"},
		{"module class", zipCheckpoint(t, stateDictPickle(func(p *pk) {
			p.global("torch.nn.modules.linear", "Linear").op(')', 0x81)
		}), nil, ""), ErrForbidden, "torch.nn.modules.linear.Linear"},
		{"unsupported storage", zipCheckpoint(t, stateDictPickle(func(p *pk) {
			p.global("torch", "ComplexFloatStorage")
		}), nil, ""), ErrUnsupported, "ComplexFloatStorage"},
		{"persistent module source", zipCheckpoint(t, stateDictPickle(func(p *pk) {
			p.op('(').str("module").str("x").op('t', 'Q')
		}), nil, ""), ErrUnsupported, "persistent id"},
		{"value not a tensor", zipCheckpoint(t, stateDictPickle(func(p *pk) { p.int(3) }), nil, ""),
			ErrNotStateDict, `"w" holds a int`},
		{"legacy bad magic", append([]byte{0x80, 2, 'J'}, 1, 0, 0, 0, '.'), ErrNotTorch, "magic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := readBytes(tt.file)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), tt.message)
			assert.Nil(t, m)
		})
	}
}

// TestTruncated cuts real checkpoints short everywhere that matters: each
// cut is an error, never a panic or a partial map.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"lenet.pt", "lenet.legacy.pt", "dtypes.pt", "dtypes.legacy.pt"} {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		require.NoError(t, err)
		cuts := []int{1, 2, 10, 30, 100, 500, len(b) / 3, len(b) / 2, len(b) - 100, len(b) - 9, len(b) - 1}
		for _, n := range cuts {
			if n <= 0 || n >= len(b) {
				continue
			}
			m, err := read(bytes.NewReader(b[:n]), int64(n), Limits{})
			assert.Error(t, err, "%s cut at %d", name, n)
			assert.Nil(t, m)
		}
	}
}

// TestCorrupted flips bytes through a legacy checkpoint's pickles: the
// reader may accept some (a flipped float) but must never panic.
func TestCorrupted(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtures, "dtypes.legacy.pt"))
	require.NoError(t, err)
	errs := 0
	for i := 0; i < len(b); i += 7 {
		c := bytes.Clone(b)
		c[i] ^= 0xa5
		if _, err := read(bytes.NewReader(c), int64(len(c)), Limits{}); err != nil {
			errs++
		}
	}
	assert.Positive(t, errs)
}
