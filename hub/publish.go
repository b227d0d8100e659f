package hub

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Publish puts an entry's ONNX weights into store under e.Weights.Key,
// records their sha256 and size in e.Weights and, when manifestPath is not
// "", adds e to that weights.json file or replaces the entry of the same
// name (UpsertManifestEntry). It returns e as recorded. The entry is
// checked before anything is written.
//
// It is the one way the zoo publishes weights: zoo-train train, import
// --push and pull, and ImportPyTorch's push (UpstreamOptions.Push).
func Publish(ctx context.Context, store Store, manifestPath string, e Entry, onnx []byte) (Entry, error) {
	sum := sha256.Sum256(onnx)
	e.Weights.SHA256, e.Weights.Size = hex.EncodeToString(sum[:]), int64(len(onnx))
	if err := e.validate(); err != nil {
		return Entry{}, fmt.Errorf("hub: publish %s: %w", e.Name, err)
	}
	if err := store.Put(ctx, e.Weights.Key, bytes.NewReader(onnx), int64(len(onnx))); err != nil {
		return Entry{}, fmt.Errorf("hub: publish %s: put %s into %s: %w", e.Name, e.Weights.Key, store, err)
	}
	if manifestPath != "" {
		if err := UpsertManifestEntry(manifestPath, e); err != nil {
			return Entry{}, fmt.Errorf("hub: publish %s: %w", e.Name, err)
		}
	}
	return e, nil
}
