package torchpt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// legacyMagic is torch.serialization.MAGIC_NUMBER.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// legacyProtocol is torch.serialization.PROTOCOL_VERSION.
const legacyProtocol = 1001

var errNotMagic = errors.New("the first pickle of a legacy file holds only the magic number")

// readLegacy decodes the pre-1.6 stream: pickles of the magic number, the
// protocol version and sys_info, the main pickle, the sorted list of
// storage keys, then for each key an int64 element count and the raw
// little-endian storage bytes.
func readLegacy(r io.ReaderAt, size int64) (any, binary.ByteOrder, error) {
	src := newSource(r, 0, size)
	u := &unpickler{src: src, resolve: func(string, string) (any, error) { return nil, errNotMagic }}
	magic, err := u.load()
	if m, ok := magic.(*big.Int); err != nil || !ok || m.Cmp(legacyMagic) != 0 {
		if err == nil {
			err = fmt.Errorf("it holds %s", typeName(magic))
		}
		return nil, nil, fmt.Errorf("%w: no legacy magic number: %w", ErrNotTorch, err)
	}

	u.resolve = resolveGlobal
	next := func(what string) (any, error) {
		u.memo = nil // every pickle in the stream has its own memo
		v, err := u.load()
		if err != nil {
			return nil, fmt.Errorf("%s pickle: %w", what, err)
		}
		return v, nil
	}
	proto, err := next("protocol version")
	if err != nil {
		return nil, nil, err
	}
	if p, ok := proto.(int64); !ok || p != legacyProtocol {
		return nil, nil, fmt.Errorf("%w: legacy protocol version %s (want %d)", ErrUnsupported, describe(proto), legacyProtocol)
	}
	info, err := next("sys_info")
	if err != nil {
		return nil, nil, err
	}
	if d, ok := info.(*pyDict); ok {
		if le, ok := d.get("little_endian"); ok && le == false {
			return nil, nil, fmt.Errorf("%w: legacy checkpoint written on a big-endian machine", ErrUnsupported)
		}
	}

	table := newStorageTable(size)
	u.persistentLoad = table.persistentLoad
	root, err := next("main")
	if err != nil {
		return nil, nil, err
	}
	u.persistentLoad = nil
	keysV, err := next("storage keys")
	if err != nil {
		return nil, nil, err
	}
	keys, ok := keysV.(*pyList)
	if !ok {
		return nil, nil, fmt.Errorf("storage keys are a %s, not a list", typeName(keysV))
	}

	pos := src.pos
	for _, k := range keys.items {
		key, ok := k.(string)
		if !ok {
			return nil, nil, fmt.Errorf("storage key is a %s", typeName(k))
		}
		ref, ok := table.refs[key]
		if !ok {
			return nil, nil, fmt.Errorf("storage %s listed but never used", key)
		}
		if ref.load != nil {
			return nil, nil, fmt.Errorf("storage %s listed twice", key)
		}
		var hdr [8]byte
		if size-pos < 8 {
			return nil, nil, fmt.Errorf("storage %s: header at offset %d: %w", key, pos, io.ErrUnexpectedEOF)
		}
		if _, err := r.ReadAt(hdr[:], pos); err != nil {
			return nil, nil, fmt.Errorf("storage %s: read header: %w", key, err)
		}
		if n := int64(binary.LittleEndian.Uint64(hdr[:])); n != ref.numel {
			return nil, nil, fmt.Errorf("storage %s: file says %d elements, pickle says %d", key, n, ref.numel)
		}
		nbytes := ref.numel * ref.dtype.size
		if nbytes > size-pos-8 {
			return nil, nil, fmt.Errorf("storage %s: %d bytes at offset %d: %w", key, nbytes, pos+8, io.ErrUnexpectedEOF)
		}
		off := pos + 8
		ref.load = func() ([]byte, error) {
			b := make([]byte, nbytes)
			if n, err := r.ReadAt(b, off); int64(n) < nbytes {
				if err == nil || err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, err
			}
			return b, nil
		}
		pos = off + nbytes
	}
	for key, ref := range table.refs {
		if ref.load == nil {
			return nil, nil, fmt.Errorf("storage %s is used but not in the file", key)
		}
	}
	return root, binary.LittleEndian, nil
}
