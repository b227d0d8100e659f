package torchpt

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxDeflateRatio bounds how much a compressed storage entry may expand.
// torch writes storages uncompressed; this only guards hand-made archives.
const maxDeflateRatio = 1100

// readZip decodes the zip serialization (torch ≥ 1.6): DIR/data.pkl is the
// pickle, DIR/data/KEY the storage named KEY, DIR/byteorder "little" or "big"
// (absent before torch 2.1, meaning little).
func readZip(r io.ReaderAt, size int64) (any, binary.ByteOrder, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, nil, fmt.Errorf("open zip archive: %w", err)
	}
	files := make(map[string]*zip.File, len(zr.File))
	prefix := ""
	for _, f := range zr.File {
		files[f.Name] = f
		dir, base, ok := strings.Cut(f.Name, "/")
		if ok && base == "data.pkl" {
			if prefix != "" {
				return nil, nil, errors.New("zip archive holds more than one data.pkl")
			}
			prefix = dir + "/"
		}
	}
	if prefix == "" {
		return nil, nil, fmt.Errorf("%w: zip archive without DIR/data.pkl", ErrNotTorch)
	}

	order := binary.ByteOrder(binary.LittleEndian)
	if f, ok := files[prefix+"byteorder"]; ok {
		b, err := readEntry(f, 16)
		if err != nil {
			return nil, nil, fmt.Errorf("read byteorder: %w", err)
		}
		switch strings.TrimSpace(string(b)) {
		case "little":
		case "big":
			order = binary.BigEndian
		default:
			return nil, nil, fmt.Errorf("byteorder %q", b)
		}
	}

	pkl, err := readEntry(files[prefix+"data.pkl"], maxPickle)
	if err != nil {
		return nil, nil, fmt.Errorf("read data.pkl: %w", err)
	}
	table := newStorageTable(size * maxDeflateRatio)
	u := &unpickler{src: newSource(bytes.NewReader(pkl), 0, int64(len(pkl))), resolve: resolveGlobal, persistentLoad: table.persistentLoad}
	root, err := u.load()
	if err != nil {
		return nil, nil, fmt.Errorf("data.pkl: %w", err)
	}
	for key, ref := range table.refs {
		f, ok := files[prefix+"data/"+key]
		if !ok {
			return nil, nil, fmt.Errorf("storage %s: no entry %sdata/%s in the archive", key, prefix, key)
		}
		nbytes := ref.numel * ref.dtype.size
		if uint64(nbytes) > f.UncompressedSize64 ||
			(f.Method == zip.Store && uint64(nbytes) > f.CompressedSize64) ||
			uint64(nbytes) > f.CompressedSize64*maxDeflateRatio {
			return nil, nil, fmt.Errorf("storage %s: %d bytes expected, archive entry holds %d (%d stored)",
				key, nbytes, f.UncompressedSize64, f.CompressedSize64)
		}
		ref.load = func() ([]byte, error) {
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			b := make([]byte, nbytes)
			if _, err := io.ReadFull(rc, b); err != nil {
				return nil, fmt.Errorf("read %s: %w", f.Name, err)
			}
			return b, nil
		}
	}
	return root, order, nil
}

// readEntry reads a whole archive entry of at most limit bytes.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("entry %s is %d bytes (limit %d)", f.Name, f.UncompressedSize64, limit)
	}
	// The buffer is sized from the header's claim: believe it only as far
	// as the stored bytes can back it.
	if (f.Method == zip.Store && f.UncompressedSize64 != f.CompressedSize64) ||
		f.UncompressedSize64 > f.CompressedSize64*maxDeflateRatio {
		return nil, fmt.Errorf("entry %s claims %d bytes from %d stored", f.Name, f.UncompressedSize64, f.CompressedSize64)
	}
	limit = int64(f.UncompressedSize64) // the archive's own claim, checked above
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b := make([]byte, limit)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, fmt.Errorf("entry %s: %w", f.Name, err)
	}
	// More bytes than the header claims: the archive lies.
	if n, _ := rc.Read(make([]byte, 1)); n > 0 {
		return nil, fmt.Errorf("entry %s exceeds %d bytes", f.Name, limit)
	}
	return b, nil
}
