//go:build ignore

// Ship-entries copies published entries from one manifest and store into
// another through hub.Publish (the one publish path): each entry's ONNX is
// read from the source store, checked against the source entry's sha256,
// put into the destination store and upserted into the destination
// weights.json, whose other bytes stay as they were. It moves a zoo trained
// outside the repository (scripts/train-fashion-zoo.sh with MANIFEST and
// STORE) into weights.json and weights/ in one step:
//
//	go run scripts/ship-entries.go -from ~/fmixzoo-runs/e30/pub/weights.json \
//		-from-store ~/fmixzoo-runs/e30/pub/weights 'preact_resnet18_fashion_*'
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/fmixzoo/zoo/hub"
)

func main() {
	from := flag.String("from", "", "source weights.json")
	fromStore := flag.String("from-store", "", "source store (directory, file://DIR or s3://BUCKET/PREFIX)")
	to := flag.String("to", "weights.json", "destination weights.json")
	toStore := flag.String("to-store", "weights", "destination store")
	flag.Parse()
	if *from == "" || *fromStore == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: go run scripts/ship-entries.go -from FILE -from-store STORE [-to FILE] [-to-store STORE] PATTERN...")
		os.Exit(2)
	}
	if err := run(context.Background(), *from, *fromStore, *to, *toStore, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "ship-entries:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, from, fromStore, to, toStore string, patterns []string) error {
	m, err := hub.ReadManifest(ctx, from, nil)
	if err != nil {
		return err
	}
	src, err := hub.OpenStore(fromStore, hub.StoreOptions{})
	if err != nil {
		return err
	}
	dst, err := hub.OpenStore(toStore, hub.StoreOptions{})
	if err != nil {
		return err
	}
	shipped := 0
	for _, e := range m.Entries() {
		if !matchAny(patterns, e.Name) {
			continue
		}
		data, err := get(ctx, src, e)
		if err != nil {
			return err
		}
		if _, err := hub.Publish(ctx, dst, to, e, data); err != nil {
			return err
		}
		fmt.Printf("shipped %s (%d bytes, sha256 %s)\n", e.Name, len(data), e.Weights.SHA256)
		shipped++
	}
	if shipped == 0 {
		return fmt.Errorf("no entry of %s matches %q", from, patterns)
	}
	return nil
}

func get(ctx context.Context, s hub.Store, e hub.Entry) ([]byte, error) {
	rc, _, err := s.Get(ctx, e.Weights.Key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, e.Weights.Size+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Name, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); int64(len(data)) != e.Weights.Size || got != e.Weights.SHA256 {
		return nil, fmt.Errorf("%s: %s holds %d bytes with sha256 %s; the manifest says %d bytes, %s",
			e.Name, e.Weights.Key, len(data), got, e.Weights.Size, e.Weights.SHA256)
	}
	return data, nil
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}
