package server

import "github.com/fmixzoo/zoo/internal/topk"

// Prediction is one class of a classification result (label, index,
// softmax probability).
type Prediction = topk.Prediction
