// Package hub turns model names into runnable models:
//
//	weights.json ─▶ resolve ▶ store ▶ cache ▶ verify ▶ decode ▶ Model
//
// A Client holds everything that takes: the manifest names are resolved in
// (weights.json, embedded in every binary, or a file or URL), the Store
// ONNX weights come from (the embedded weights/ directory, file://DIR,
// s3://BUCKET/PREFIX through minio-go, or read-only http(s)://), the
// directory of the Cache that checks size and sha256 on every write and
// every read, so corrupted weights are never evaluated, the Importer for
// names published only as PyTorch checkpoints, and its logger and HTTP
// client. Downloads of one file are merged within a process and
// serialised between processes; transient failures are retried with
// backoff; an Offline client uses the cache only.
//
//	c := &hub.Client{StoreURI: "s3://zoo/weights", CacheDir: "/var/cache/zoo"}
//	m, err := c.Load(ctx, "pyramidnet_cifar10_fmix")
//	if err != nil { ... }
//	preds, err := m.Classify(ctx, img, 5) // top-5 labels with probabilities
//
// FromEnv builds a Client from ZOO_… variables (ZOO_MANIFEST, ZOO_STORE,
// ZOO_S3_ENDPOINT, ZOO_CACHE, ZOO_OFFLINE, ZOO_UPSTREAM…); it is the only
// place the package reads the environment. The package-level Load,
// LoadContext, LoadNet, List and Info use such a default client:
//
//	m, err := hub.Load("pyramidnet_cifar10_fmix")
//
// The published FMix checkpoints exist only as PyTorch state dicts: when the
// store has no ONNX for a name, Load downloads the upstream checkpoint and
// converts it (ImportPyTorch, FromEnv's importer). A client without an
// Importer (or WithImporter(nil)) reports ErrNoWeights instead and says how
// to convert them ahead of time (zoo-train pull).
//
// The package that reads weights.json also writes it: Publish puts an ONNX
// file into a store and adds or replaces its entry in a weights.json file
// (UpsertManifestEntry), keeping every other byte of the file.
package hub
