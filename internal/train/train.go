package train

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/fmixzoo/zoo/internal/data"
	"github.com/fmixzoo/zoo/zoo"
)

// Config is one training run. The zero values of the optional fields mean
// the published settings (see DefaultConfig).
type Config struct {
	Arch string   `json:"arch"`
	Args zoo.Args `json:"args"` // NumClasses and NC are filled from the dataset when 0

	Dataset string `json:"dataset"`
	DataDir string `json:"data_dir,omitempty"`
	// TrainLimit and TestLimit use only the first N examples (0: all); for
	// smoke runs and tests.
	TrainLimit int `json:"train_limit,omitempty"`
	TestLimit  int `json:"test_limit,omitempty"`

	Epochs    int `json:"epochs"`
	BatchSize int `json:"batch_size"`
	// StepsPerEpoch caps the steps of an epoch (0: the whole training set).
	StepsPerEpoch int `json:"steps_per_epoch,omitempty"`

	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	Schedule    string  `json:"schedule"` // multistep or cosine
	Milestones  []int   `json:"milestones,omitempty"`
	Gamma       float64 `json:"gamma"`
	Warmup      int     `json:"warmup,omitempty"` // epochs

	MSDA MSDAConfig `json:"msda"`

	Seed    uint64 `json:"seed"`
	Workers int    `json:"-"`
	// MaxDuration stops training when exceeded (0: no budget). The epoch in
	// progress ends early, is evaluated and checkpointed.
	MaxDuration time.Duration `json:"-"`
	// Checkpoint is the checkpoint file, written after every epoch ("" :
	// none). With Resume, training continues from it when it exists.
	Checkpoint string `json:"-"`
	Resume     bool   `json:"-"`
	// CurvesDir receives curves.csv and curves.png after every epoch ("":
	// none).
	CurvesDir string `json:"-"`
}

// DefaultConfig returns the published settings: SGD lr 0.1, momentum 0.9,
// weight decay 1e-4, multistep at 100 and 150 with gamma 0.1, 200 epochs of
// batch 128, no MSDA.
func DefaultConfig() Config {
	return Config{
		Epochs: 200, BatchSize: 128, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4,
		Schedule: "multistep", Milestones: []int{100, 150}, Gamma: 0.1,
		MSDA: MSDAConfig{Mode: "none", Alpha: 1, DecayPower: 3, Variant: "official"},
	}
}

// Fingerprint hashes the settings a resumed run must share with the run
// that wrote the checkpoint (everything but epochs, budget and paths).
func (c Config) Fingerprint() string {
	f := c
	f.Epochs = 0
	f.DataDir = ""
	js, _ := json.Marshal(f)
	sum := sha256.Sum256(js)
	return hex.EncodeToString(sum[:])
}

// Result is what a finished (or budget-stopped) run produced.
type Result struct {
	Net *zoo.Net
	// Config is the run's configuration with the defaults it filled in
	// (dataset name, classes, channels).
	Config  Config
	History []EpochStats
	// Epochs is the number of epochs run in total (resumed ones included).
	Epochs int
	// Steps is the number of optimiser steps in total.
	Steps   int
	Elapsed time.Duration
	// Stopped says why training ended before Config.Epochs ("" when it did not).
	Stopped string
	// TrainFiles and TestFiles are the dataset files read, with digests.
	TrainFiles, TestFiles []data.FileDigest
}

// Train runs cfg, reporting progress to log (nil: quiet).
func Train(ctx context.Context, cfg Config, log io.Writer) (*Result, error) {
	start := time.Now()
	if cfg.Dataset == "" {
		return nil, errors.New("train: no dataset")
	}
	dsName, err := data.CanonicalName(cfg.Dataset)
	if err != nil {
		return nil, err
	}
	cfg.Dataset = dsName
	sched := Schedule{Base: cfg.LR, Kind: cfg.Schedule, Milestones: cfg.Milestones, Gamma: cfg.Gamma, Epochs: cfg.Epochs, Warmup: cfg.Warmup}
	if err := sched.Validate(); err != nil {
		return nil, err
	}
	trainSet, err := data.Open(dsName, cfg.DataDir, data.TrainSplit)
	if err != nil {
		return nil, err
	}
	testSet, err := data.Open(dsName, cfg.DataDir, data.TestSplit)
	if err != nil {
		return nil, err
	}
	trainSet, testSet = data.Limit(trainSet, cfg.TrainLimit), data.Limit(testSet, cfg.TestLimit)
	tf, err := data.TrainTransform(dsName)
	if err != nil {
		return nil, err
	}
	testTF, err := data.TestTransform(dsName)
	if err != nil {
		return nil, err
	}
	shape := tf.OutShape()
	if cfg.Args.NumClasses == 0 {
		cfg.Args.NumClasses = trainSet.NumClasses()
	}
	if cfg.Args.NC == 0 {
		cfg.Args.NC = shape[0]
	}
	if cfg.Args.InputSize == 0 && shape[1] == shape[2] && cfg.Arch != "lenet" {
		cfg.Args.InputSize = shape[1] // the CIFAR networks end in global pooling: build them for the data's size
	}
	net, err := zoo.Build(cfg.Arch, cfg.Args)
	if err != nil {
		return nil, fmt.Errorf("train: build %s: %w", cfg.Arch, err)
	}
	if in := net.InputShape(); len(in) != 3 || in[0] != shape[0] || in[1] != shape[1] || in[2] != shape[2] {
		return nil, fmt.Errorf("train: %s takes input %v but %s batches are %v", cfg.Arch, in, dsName, shape)
	}
	mix, err := newMixer(cfg.MSDA, shape, cfg.Seed)
	if err != nil {
		return nil, err
	}
	net.Init(cfg.Seed)
	opt := &SGD{Momentum: float32(cfg.Momentum), WeightDecay: float32(cfg.WeightDecay)}
	res := &Result{Net: net, Config: cfg, TrainFiles: trainSet.Files(), TestFiles: testSet.Files()}

	var prior time.Duration
	if cfg.Resume && cfg.Checkpoint != "" {
		ck, err := LoadCheckpoint(cfg.Checkpoint)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		default:
			if ck.Fingerprint != cfg.Fingerprint() {
				return nil, fmt.Errorf("train: resume from %s: it was written by a run with other settings: %w", cfg.Checkpoint, ErrCheckpoint)
			}
			if err := restore("parameters", tensors(net.Params()), ck.Params); err != nil {
				return nil, err
			}
			if err := restore("buffers", tensors(net.Buffers()), ck.Buffers); err != nil {
				return nil, err
			}
			opt.Buf = ck.Momentum
			res.History, res.Epochs, prior = ck.History, ck.Epoch, ck.Elapsed
			for _, h := range ck.History {
				res.Steps += h.Steps
			}
			if log != nil {
				fmt.Fprintf(log, "resumed from %s after epoch %d\n", cfg.Checkpoint, ck.Epoch)
			}
		}
	}

	loader, err := data.NewLoader(trainSet, tf, data.LoaderOptions{BatchSize: cfg.BatchSize, Shuffle: true, DropLast: trainSet.Len() >= cfg.BatchSize, Workers: cfg.Workers, Seed: cfg.Seed})
	if err != nil {
		return nil, err
	}
	steps := loader.NumBatches()
	if cfg.StepsPerEpoch > 0 {
		steps = min(steps, cfg.StepsPerEpoch)
	}
	params := net.Params()
	values := make([][]float32, len(params))
	grads := make([][]float32, len(params))
	for i, p := range params {
		values[i], grads[i] = p.Value, p.Grad
	}
	prog := NewProgress(log)
	classes := cfg.Args.NumClasses
	deadline := time.Time{}
	if cfg.MaxDuration > 0 {
		deadline = start.Add(cfg.MaxDuration)
	}

	for epoch := res.Epochs; epoch < cfg.Epochs; epoch++ {
		if !deadline.IsZero() && time.Now().After(deadline) {
			res.Stopped = fmt.Sprintf("time budget of %v spent", cfg.MaxDuration)
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		epochStart := time.Now()
		prog.StartEpoch(epoch, cfg.Epochs, steps)
		if err := mix.startEpoch(epoch); err != nil {
			return nil, err
		}
		var lossSum float64
		var seen, done int
		var lr float64
		for batch, err := range loader.Epoch(ctx, epoch) {
			if err != nil {
				return nil, err
			}
			if done == steps {
				break
			}
			lr = sched.LR(epoch, done, steps)
			targets, err := mix.mix(batch, classes)
			if err != nil {
				return nil, err
			}
			loss, err := net.TrainStep(batch.X, batch.N, targets)
			if err != nil {
				return nil, fmt.Errorf("train: epoch %d step %d: %w", epoch+1, done+1, err)
			}
			if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
				return nil, fmt.Errorf("train: epoch %d step %d: loss is %v (diverged; try a lower --lr)", epoch+1, done+1, loss)
			}
			if err := opt.Step(float32(lr), values, grads); err != nil {
				return nil, err
			}
			lossSum += float64(loss) * float64(batch.N)
			seen += batch.N
			done++
			res.Steps++
			prog.Update(done, seen, lossSum/float64(seen))
			if !deadline.IsZero() && time.Now().After(deadline) {
				res.Stopped = fmt.Sprintf("time budget of %v spent during epoch %d", cfg.MaxDuration, epoch+1)
				break
			}
		}
		trainSecs := time.Since(epochStart).Seconds()
		ev, err := EvaluateNet(ctx, net, testSet, testTF, 256)
		if err != nil {
			return nil, err
		}
		st := EpochStats{
			Epoch: epoch, LR: lr, TrainLoss: lossSum / float64(max(seen, 1)),
			TestTop1: ev.Top1, TestTop5: ev.Top5, TestLoss: ev.Loss, Steps: done, Images: seen,
			Seconds: trainSecs, ImagesPerSec: float64(seen) / max(trainSecs, 1e-9),
		}
		res.History = append(res.History, st)
		res.Epochs = epoch + 1
		prog.EndEpoch(st)
		if cfg.Checkpoint != "" {
			ck := &Checkpoint{Fingerprint: cfg.Fingerprint(), Epoch: res.Epochs, Params: tensors(net.Params()),
				Buffers: tensors(net.Buffers()), Momentum: opt.Buf, History: res.History, Elapsed: prior + time.Since(start)}
			if err := SaveCheckpoint(cfg.Checkpoint, ck); err != nil {
				return nil, err
			}
		}
		if cfg.CurvesDir != "" {
			if err := os.MkdirAll(cfg.CurvesDir, 0o755); err != nil {
				return nil, fmt.Errorf("train: curves: %w", err)
			}
			if err := WriteCurvesCSV(filepath.Join(cfg.CurvesDir, "curves.csv"), res.History); err != nil {
				return nil, err
			}
			if err := WriteCurvesPNG(filepath.Join(cfg.CurvesDir, "curves.png"), cfg.Arch+" "+dsName+" "+cfg.MSDA.Mode, res.History); err != nil {
				return nil, err
			}
		}
		if res.Stopped != "" {
			break
		}
	}
	res.Elapsed = prior + time.Since(start)
	return res, nil
}

// tensors views parameters as named tensors sharing their storage.
func tensors(ps []*zoo.Param) []NamedTensor {
	out := make([]NamedTensor, len(ps))
	for i, p := range ps {
		out[i] = NamedTensor{Name: p.Name, Shape: p.Shape, Data: p.Value}
	}
	return out
}
