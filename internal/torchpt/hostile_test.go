package torchpt

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// Hostile checkpoints: each is built here, small on disk, and would once
// have crashed the process (stack overflow) or cost gigabytes. Each must
// now be a clear error within a stated allocation bound.

// deflatedCheckpoint builds a torch zip archive whose entries are deflated,
// as a hostile archive may be (torch itself stores them uncompressed).
func deflatedCheckpoint(t testing.TB, pkl []byte, storages map[string][]byte) []byte {
	t.Helper()
	entries := []zipEntry{{"archive/data.pkl", pkl}}
	for k, b := range storages {
		entries = append(entries, zipEntry{"archive/data/" + k, b})
	}
	return writeZip(t, zip.Deflate, entries)
}

// deepTupleKey is {((…(None,)…),): None}: a dict key nested n deep, in
// about n bytes of pickle (TUPLE1 wraps the top of the stack).
func deepTupleKey(n int) []byte {
	p := &pk{}
	p.op(0x80, 2, '}', 'N')
	p.Write(bytes.Repeat([]byte{0x85}, n))
	p.op('N', 's', '.')
	return p.Bytes()
}

func TestHostilePickles(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name     string
		file     func(t *testing.T) []byte
		message  string
		maxAlloc uint64 // bytes Read may allocate
	}{
		{
			// A 1.2 KB file: formatting the key in the error once
			// recursed a million levels (fatal: stack overflow).
			name:     "million-deep tuple key",
			file:     func(t *testing.T) []byte { return deflatedCheckpoint(t, deepTupleKey(1_000_000), nil) },
			message:  "nested deeper than 100",
			maxAlloc: 8 * mib,
		},
		{
			name: "lists nested by APPEND",
			file: func(t *testing.T) []byte {
				p := &pk{}
				p.op(0x80, 2)
				p.Write(bytes.Repeat([]byte{']'}, 500))
				p.Write(bytes.Repeat([]byte{'a'}, 499))
				return zipCheckpoint(t, p.op('.').Bytes(), nil, "")
			},
			message:  "nested deeper than 100",
			maxAlloc: 1 * mib,
		},
		{
			name: "list appended to itself",
			file: func(t *testing.T) []byte {
				p := &pk{}
				p.op(0x80, 2, ']', 'q', 0)
				for range 200 {
					p.op('h', 0, 'a')
				}
				return zipCheckpoint(t, p.op('.').Bytes(), nil, "")
			},
			message:  "nested deeper than 100",
			maxAlloc: 1 * mib,
		},
		{
			// 16M one-byte opcodes deflate to 16 KB; the stack once
			// grew to hold all of them (2.8 GB).
			name: "16M pushes",
			file: func(t *testing.T) []byte {
				p := append([]byte{0x80, 2}, bytes.Repeat([]byte{'}'}, 16<<20)...)
				return deflatedCheckpoint(t, append(p, '.'), nil)
			},
			message:  "more than 65536 values on the stack",
			maxAlloc: 40 * mib,
		},
		{
			name: "8M dicts appended to a list",
			file: func(t *testing.T) []byte {
				p := append([]byte{0x80, 2, ']'}, bytes.Repeat([]byte("}a"), 8<<20)...)
				return deflatedCheckpoint(t, append(p, '.'), nil)
			},
			message:  "more than 128 MiB of values",
			maxAlloc: 200 * mib,
		},
		{
			name: "16M memo entries",
			file: func(t *testing.T) []byte {
				p := append([]byte{0x80, 4, 'N'}, bytes.Repeat([]byte{0x94}, 16<<20)...)
				return deflatedCheckpoint(t, append(p, '.'), nil)
			},
			message:  "more than 262144 memo entries",
			maxAlloc: 80 * mib,
		},
		{
			name: "data.pkl over 64 MiB",
			file: func(t *testing.T) []byte {
				return deflatedCheckpoint(t, make([]byte, 65<<20), nil)
			},
			message:  "limit 67108864",
			maxAlloc: 1 * mib,
		},
		{
			// A stored data.pkl whose header claims 60 MiB: the reader
			// sizes its buffer from the claim, so it must check it.
			name: "data.pkl size claim",
			file: func(t *testing.T) []byte {
				var buf bytes.Buffer
				zw := zip.NewWriter(&buf)
				w, err := zw.CreateRaw(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store,
					CompressedSize64: 2, UncompressedSize64: 60 << 20})
				require.NoError(t, err)
				_, err = w.Write([]byte{'N', '.'})
				require.NoError(t, err)
				require.NoError(t, zw.Close())
				return buf.Bytes()
			},
			message:  "claims 62914560 bytes from 2 stored",
			maxAlloc: 1 * mib,
		},
		{
			// Three 1 GiB storages deflated into a 3 MB file once took
			// 3.3 GB: each is refused before it is inflated.
			name:     "three deflated 1 GiB storages",
			file:     threeGiBStorages,
			message:  "exceed",
			maxAlloc: 8 * mib,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file(t)
			var (
				m   map[string]Tensor
				err error
			)
			n := testutil.Allocated(func() { m, err = readBytes(file) })
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrMalformed)
			assert.Contains(t, err.Error(), tt.message)
			assert.Less(t, len(err.Error()), 1000, "the error must not echo the input")
			assert.Nil(t, m)
			assert.Less(t, n, tt.maxAlloc, "%d-byte file: %d MiB allocated", len(file), n>>20)
			t.Logf("%d-byte file: %.1f MiB allocated: %v", len(file), float64(n)/(1<<20), err)
		})
	}
}

// threeGiBStorages is a state dict of three float32 tensors of 2^28
// elements, each storage 1 GiB of zeros deflated to about 1 MB. The
// deflate stream is assembled from repeated blocks (flushing after each
// MiB of zeros makes every block but the first identical), so building it
// costs milliseconds.
func threeGiBStorages(t *testing.T) []byte {
	const numel = 1 << 28
	var stream bytes.Buffer
	fw, err := flate.NewWriter(&stream, flate.BestCompression)
	require.NoError(t, err)
	zeros := make([]byte, 1<<20)
	var blocks [3][]byte
	for i := range blocks {
		start := stream.Len()
		_, err := fw.Write(zeros)
		require.NoError(t, err)
		require.NoError(t, fw.Flush())
		blocks[i] = bytes.Clone(stream.Bytes()[start:])
	}
	require.Equal(t, blocks[1], blocks[2], "deflate blocks of zeros repeat")
	require.NoError(t, fw.Close())
	final := stream.Bytes()[len(blocks[0])+2*len(blocks[1]):]
	body := bytes.Clone(blocks[0])
	for range 1023 {
		body = append(body, blocks[1]...)
	}
	body = append(body, final...)
	crc := crc32.ChecksumIEEE(zeros)
	for range 1023 {
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}

	p := &pk{}
	p.op(0x80, 2, '}')
	for _, k := range []string{"a", "b", "c"} {
		p.str(k)
		p.global("torch._utils", "_rebuild_tensor_v2").op('(')
		p.op('(').str("storage").global("torch", "FloatStorage").str(k).str("cpu").long(numel).op('t', 'Q')
		p.int(0).ints(numel).ints(1).op(0x89)
		p.global("collections", "OrderedDict").op(')', 'R', 't', 'R', 's')
	}
	p.op('.')

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	require.NoError(t, err)
	_, err = w.Write(p.Bytes())
	require.NoError(t, err)
	for _, k := range []string{"a", "b", "c"} {
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: "archive/data/" + k, Method: zip.Deflate, CRC32: crc,
			CompressedSize64: uint64(len(body)), UncompressedSize64: 4 * numel,
		})
		require.NoError(t, err)
		_, err = w.Write(body)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestThreeGiBStoragesValid checks that the hostile archive above is a
// real one: its first storage inflates to exactly 1 GiB of zeros (so the
// refusal is the reader's limit, not a broken stream).
func TestThreeGiBStoragesValid(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 1 GiB")
	}
	b := threeGiBStorages(t)
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	require.Len(t, zr.File, 4)
	rc, err := zr.File[1].Open()
	require.NoError(t, err)
	defer rc.Close()
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := rc.Read(buf)
		require.Zero(t, bytes.Count(buf[:k], []byte{0})-k, "non-zero byte")
		n += int64(k)
		if err != nil {
			require.ErrorIs(t, err, io.EOF) // the checksum is verified at EOF
			break
		}
	}
	assert.Equal(t, int64(1<<30), n)
	assert.Less(t, len(b), 4<<20)
}

// TestReadLimited: the caller's bounds (what its architecture needs) are
// met exactly and refused one element or byte short.
func TestReadLimited(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtures, "lenet.pt"))
	require.NoError(t, err)
	m, err := Read(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	var elems int64
	for _, v := range m {
		elems += int64(len(v.Data))
	}
	storageBytes := 4 * elems // lenet.pt: float32, one storage per tensor

	tests := []struct {
		name    string
		lim     Limits
		message string
	}{
		{"exact", Limits{MaxElements: elems, MaxStorageBytes: storageBytes}, ""},
		{"one element short", Limits{MaxElements: elems - 1, MaxStorageBytes: storageBytes}, "elements exceed"},
		{"one byte short", Limits{MaxElements: elems, MaxStorageBytes: storageBytes - 1}, "storage limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadLimited(bytes.NewReader(b), int64(len(b)), tt.lim)
			if tt.message == "" {
				require.NoError(t, err)
				assert.Len(t, got, len(m))
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrMalformed)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

// TestDescribeBounded: error text for pickled values is short whatever
// the value.
func TestDescribeBounded(t *testing.T) {
	deep := any(pyNone{})
	for range 1000 {
		deep = pyTuple{deep}
	}
	for _, v := range []any{deep, string(make([]byte, 1<<20)), make([]byte, 1<<20), &pyList{items: make([]any, 5)}} {
		assert.Less(t, len(describe(v)), 160)
	}
	assert.Equal(t, `"ab"`, describe("ab"))
	assert.Equal(t, "a tuple of 1 items", describe(deep))
	var le [8]byte
	binary.LittleEndian.PutUint64(le[:], 7)
	assert.Equal(t, "7", describe(decodeLong(le[:])))
}
