// Package server is zoo-serve's HTTP API: a native classification API
// (/v1), the Open Inference Protocol v2 used by KServe and Triton clients
// (/v2), Prometheus metrics (/metrics) and a small demo page (/).
//
// The server knows models only through the Catalog and Model interfaces, so
// it can be tested with fakes; HubCatalog adapts package hub. Requests for
// one model are gathered into batches of at most Config.MaxBatch images,
// waiting at most Config.BatchDelay for company, and every request receives
// exactly its own rows of the batch's output; a row that makes the model
// fail or gives non-finite logits fails only its own request. Models that implement
// Explainer also answer POST /v1/models/{name}/explain with Grad-CAM maps
// (JSON, or PNG overlays with Accept: image/png); the demo page's "Why?"
// toggle shows them.
//
// Untrusted input is bounded before it costs anything: image headers are
// read first and what decoding and preprocessing will allocate is charged to
// one process-wide budget (Config.DecodeMemory) together with bodies and
// input tensors; a batch's images are decoded one at a time, at most
// Config.MaxDecodes at once, through a reader that fails when the request
// ends; JPEG scans are counted before decoding (Config.MaxJPEGScans).
//
// Errors are JSON bodies {"error": "..."} with the status saying what went
// wrong: 400 undecodable input or a tensor of the wrong shape, 401 missing
// or wrong bearer token, 404 unknown model, 413 body or image too large
// (or needing more memory than the whole budget), 415 unsupported media
// type, 422 non-finite output for the request's input, 503 queue full or
// decoding budget spent (with Retry-After), weights unavailable or not
// ready. Messages repeat at most 64 bytes of any client input.
package server
