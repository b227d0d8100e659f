package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus collectors, on a registry of its own so
// that several servers can live in one process (as in tests).
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec   // model, code
	latency   *prometheus.HistogramVec // model
	queueWait *prometheus.HistogramVec // model
	batchSize *prometheus.HistogramVec // model
	inference *prometheus.HistogramVec // model
	inFlight  prometheus.Gauge
	loaded    prometheus.Gauge
	loads     *prometheus.CounterVec // model, result
}

// perModel is a histogram labelled by model.
func perModel(name, help string, buckets []float64) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, []string{"model"})
}

func newMetrics() *metrics {
	doubling := func(start float64) []float64 { return prometheus.ExponentialBuckets(start, 2, 16) } // 16 buckets
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zoo_requests_total",
			Help: "HTTP requests by model (empty when none) and status code.",
		}, []string{"model", "code"}),
		latency:   perModel("zoo_request_duration_seconds", "HTTP request latency by model (empty when none).", doubling(0.0005)),
		queueWait: perModel("zoo_queue_wait_seconds", "Time a request waited in its model's batching queue.", doubling(0.0001)),
		batchSize: perModel("zoo_batch_size", "Images per batch run by a model.", []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}),
		inference: perModel("zoo_inference_duration_seconds", "Time a model took to run one batch.", doubling(0.0005)),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "zoo_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		loaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "zoo_models_loaded",
			Help: "Models loaded and warmed up.",
		}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zoo_model_loads_total",
			Help: "Model loads by model and result (ok or error).",
		}, []string{"model", "result"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.queueWait, m.batchSize, m.inference, m.inFlight, m.loaded, m.loads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
