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

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "zoo_requests_total",
			Help: "HTTP requests by model (empty when none) and status code.",
		}, []string{"model", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "zoo_request_duration_seconds",
			Help:    "HTTP request latency by model (empty when none).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"model"}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "zoo_queue_wait_seconds",
			Help:    "Time a request waited in its model's batching queue.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"model"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "zoo_batch_size",
			Help:    "Images per batch run by a model.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}, []string{"model"}),
		inference: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "zoo_inference_duration_seconds",
			Help:    "Time a model took to run one batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"model"}),
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
