//go:build tools

// Package tools pins the modules the project builds on before every package
// imports them, so that `go mod tidy` keeps them in go.mod.
package tools

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/go-chi/chi/v5"
	_ "github.com/minio/minio-go/v7"
	_ "github.com/owulveryck/onnx-go"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/stretchr/testify/require"
	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/webp"
	_ "golang.org/x/sys/cpu"
	_ "golang.org/x/term"
	_ "gonum.org/v1/gonum/dsp/fourier"
	_ "gonum.org/v1/plot"
	_ "google.golang.org/protobuf/encoding/protowire"
	_ "gorgonia.org/gorgonia"
)
