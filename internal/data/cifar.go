package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// OpenCIFAR reads CIFAR-10 (classes 10) or CIFAR-100 (classes 100) in the
// binary format from dir or from its cifar-10-batches-bin / cifar-100-binary
// subfolder. CIFAR-10: data_batch_1.bin … data_batch_5.bin and
// test_batch.bin, records of 1 label byte and 3072 pixel bytes. CIFAR-100:
// train.bin and test.bin, records of a coarse and a fine label byte and 3072
// pixel bytes; the fine label is used.
func OpenCIFAR(dir string, classes int, split Split) (Dataset, error) {
	var files []string
	var labelBytes int
	var sub string
	switch classes {
	case 10:
		labelBytes, sub = 1, "cifar-10-batches-bin"
		if split == TestSplit {
			files = []string{"test_batch.bin"}
		} else {
			for i := 1; i <= 5; i++ {
				files = append(files, fmt.Sprintf("data_batch_%d.bin", i))
			}
		}
	case 100:
		labelBytes, sub = 2, "cifar-100-binary"
		files = []string{"train.bin"}
		if split == TestSplit {
			files = []string{"test.bin"}
		}
	default:
		return nil, fmt.Errorf("data: CIFAR with %d classes: want 10 or 100: %w", classes, ErrDataset)
	}
	if _, err := os.Stat(filepath.Join(dir, files[0])); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(dir, sub, files[0])); err == nil {
			dir = filepath.Join(dir, sub)
		}
	}
	const pixels = 3 * 32 * 32
	record := labelBytes + pixels
	d := &memDataset{c: 3, h: 32, w: 32, classes: classes}
	for _, name := range files {
		p := filepath.Join(dir, name)
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("data: read CIFAR-%d file %s: %w: %w", classes, p, ErrDataset, err)
		}
		if len(raw) == 0 || len(raw)%record != 0 {
			return nil, fmt.Errorf("data: %s: %d bytes is not a whole number of %d-byte CIFAR-%d records: %w",
				p, len(raw), record, classes, ErrDataset)
		}
		for off := 0; off < len(raw); off += record {
			label := int(raw[off+labelBytes-1])
			if label >= classes {
				return nil, fmt.Errorf("data: %s: record %d has label %d, want 0..%d: %w",
					p, off/record, label, classes-1, ErrDataset)
			}
			d.labels = append(d.labels, label)
			d.pix = append(d.pix, raw[off+labelBytes:off+record]...)
		}
		fd, err := digestFile(p)
		if err != nil {
			return nil, err
		}
		d.files = append(d.files, fd)
	}
	return d, nil
}
