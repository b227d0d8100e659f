// Package hub turns model names into runnable models:
//
//	weights.json ─▶ resolve ▶ store ▶ cache ▶ verify ▶ decode ▶ Model
//
// A name (or alias) is looked up in the manifest (weights.json, embedded in
// every binary, or ZOO_MANIFEST). Its ONNX weights come from a Store
// (ZOO_STORE: the embedded weights/ directory by default, file://DIR,
// s3://BUCKET/PREFIX through minio-go, or read-only http(s)://) into a Cache
// (ZOO_CACHE, $XDG_CACHE_HOME/fmixzoo or ~/.cache/fmixzoo) that checks size
// and sha256 on every write and every read, so corrupted weights are never
// evaluated. Downloads of one file are merged within a process and
// serialised between processes; transient failures are retried with
// backoff; ZOO_OFFLINE=1 uses the cache only.
//
//	m, err := hub.Load("pyramidnet_cifar10_fmix")
//	if err != nil { ... }
//	preds, err := m.Classify(ctx, img, 5) // top-5 labels with probabilities
//
// The published FMix checkpoints exist only as PyTorch state dicts: when the
// store has no ONNX for a name, Load downloads the upstream checkpoint and
// converts it (ImportPyTorch, the default importer). With WithImporter(nil)
// it reports ErrNoWeights instead and says how to convert them ahead of time
// (zoo-train pull).
package hub
