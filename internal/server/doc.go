// Package server is zoo-serve's HTTP API: a native classification API
// (/v1), the Open Inference Protocol v2 used by KServe and Triton clients
// (/v2), Prometheus metrics (/metrics) and a small demo page (/).
//
// The server knows models only through the Catalog and Model interfaces, so
// it can be tested with fakes; HubCatalog adapts package hub. Requests for
// one model are gathered into batches of at most Config.MaxBatch images,
// waiting at most Config.BatchDelay for company, and every request receives
// exactly its own rows of the batch's output. Models that implement
// Explainer also answer POST /v1/models/{name}/explain with Grad-CAM maps
// (JSON, or PNG overlays with Accept: image/png); the demo page's "Why?"
// toggle shows them.
//
// Errors are JSON bodies {"error": "..."} with the status saying what went
// wrong: 400 undecodable input or a tensor of the wrong shape, 401 missing
// or wrong bearer token, 404 unknown model, 413 body or image too large,
// 415 unsupported media type, 503 queue full (with Retry-After) or not ready.
package server
