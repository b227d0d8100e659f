package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/fmixzoo/zoo/zoo"
)

// SchemaVersion is the weights.json schema version this package reads.
const SchemaVersion = 1

// Manifest is a parsed weights.json: every model the hub can resolve.
// Build one with ParseManifest; the zero value is empty and usable.
type Manifest struct {
	entries   []Entry
	byName    map[string]int // names and aliases → index in entries
	labelSets map[string][]string
}

// Entry is one model of the manifest: its architecture, preprocessing,
// labels, reported accuracy and where its weights live. Labels is always
// resolved: a label-set reference in weights.json is replaced by its list.
type Entry struct {
	Name        string   `json:"name"`
	Aliases     []string `json:"aliases,omitempty"`
	Description string   `json:"description,omitempty"`
	Arch        string   `json:"arch"`
	Args        Args     `json:"args"`
	Dataset     string   `json:"dataset"`
	MSDA        string   `json:"msda"`
	Input       Input    `json:"input"`
	// LabelSet is the name of the manifest label set Labels came from, if any.
	LabelSet string    `json:"label_set,omitempty"`
	Labels   []string  `json:"labels"`
	Accuracy Accuracy  `json:"accuracy"`
	Weights  Weights   `json:"weights"`
	Upstream *Upstream `json:"upstream,omitempty"`
	Notes    string    `json:"notes,omitempty"`
}

// Args are an architecture's constructor arguments: zoo.Args, one type for
// the manifest and the architectures.
type Args = zoo.Args

// Input is a model's preprocessing, applied by (*Model).Preprocess in this
// order: convert to grey (Shape[0] == 1) or RGB (3); resize so the shorter
// side is Resize pixels (0: resize straight to Crop×Crop); centre-crop to
// Shape[1]×Shape[2]; divide 8-bit values by Scale; subtract Mean and divide
// by Std per channel.
type Input struct {
	Shape         []int     `json:"shape"` // C, H, W
	Mean          []float64 `json:"mean"`
	Std           []float64 `json:"std"`
	Resize        int       `json:"resize"`
	Crop          int       `json:"crop"`
	Interpolation string    `json:"interpolation"` // "bilinear"
	Scale         float64   `json:"scale"`         // 255 maps 8-bit pixels to [0, 1]
}

// Accuracy is a reported accuracy and where it comes from.
type Accuracy struct {
	// Top1 and Top5 are percentages; nil when none is known.
	Top1 *float64 `json:"top1,omitempty"`
	Top5 *float64 `json:"top5,omitempty"`
	// Source is "paper", "readme", "measured" (by zoo-train verify) or "none".
	Source string `json:"source"`
	// Provenance says which table, or which command, commit, data and date.
	Provenance string `json:"provenance,omitempty"`
}

// Weights locates a model's ONNX weights in a store and pins their content.
type Weights struct {
	Key    string `json:"key"`              // object key relative to the store
	SHA256 string `json:"sha256,omitempty"` // hex; empty when no ONNX has been published
	Size   int64  `json:"size,omitempty"`   // bytes
	Format string `json:"format"`           // "onnx"
}

// Upstream is the authors' published PyTorch checkpoint an entry derives from.
type Upstream struct {
	Base string `json:"base"` // e.g. http://marc.ecs.soton.ac.uk/pytorch-models
	// Path is appended to Base; "{repeat}" in it selects one of Repeats runs.
	Path    string `json:"path"`
	Repeats int    `json:"repeats,omitempty"`
	Format  string `json:"format"` // "torch-state-dict"
	SHA256  string `json:"sha256,omitempty"`
}

// URL returns the checkpoint's URL under base (Base when base is empty) for
// the given repeat.
func (u Upstream) URL(base string, repeat int) string {
	if base == "" {
		base = u.Base
	}
	return strings.TrimRight(base, "/") + strings.ReplaceAll(u.Path, "{repeat}", fmt.Sprint(repeat))
}

// ErrUnknownModel is returned (wrapped) for a name the manifest lacks.
var ErrUnknownModel = errors.New("unknown model")

// ErrInvalidName is returned (wrapped) for a malformed model name or object key.
var ErrInvalidName = errors.New("invalid name")

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,127}$`)

// ValidateName reports whether name is a well-formed model name: lower-case
// letters, digits, '_', '-' and '.', starting with a letter or digit, and no "..".
func ValidateName(name string) error {
	if !nameRE.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("%w: %q (want [a-z0-9][a-z0-9_.-]*, at most 128 characters)", ErrInvalidName, name)
	}
	return nil
}

// validateKey checks an object key: a clean relative slash path without "..".
func validateKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, `\`) ||
		path.Clean(key) != key || key == "." || strings.HasPrefix(key, "../") || key == ".." ||
		strings.Contains(key, "/../") || strings.ContainsRune(key, 0) {
		return fmt.Errorf("%w: object key %q", ErrInvalidName, key)
	}
	return nil
}

var hexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// manifestFile is the on-disk form of weights.json.
type manifestFile struct {
	Schema    int                 `json:"schema"`
	LabelSets map[string][]string `json:"label_sets"`
	Models    []json.RawMessage   `json:"models"`
}

// ParseManifest parses and validates a weights.json document.
func ParseManifest(data []byte) (*Manifest, error) {
	var f manifestFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("hub: parse manifest: %w", err)
	}
	if f.Schema != SchemaVersion {
		return nil, fmt.Errorf("hub: parse manifest: schema %d, this build reads schema %d", f.Schema, SchemaVersion)
	}
	m := &Manifest{byName: map[string]int{}, labelSets: f.LabelSets}
	for i, raw := range f.Models {
		e, err := parseEntry(raw, f.LabelSets)
		if err != nil {
			return nil, fmt.Errorf("hub: parse manifest: model %d: %w", i, err)
		}
		for _, n := range append([]string{e.Name}, e.Aliases...) {
			if _, dup := m.byName[n]; dup {
				return nil, fmt.Errorf("hub: parse manifest: model %d: name %q used twice", i, n)
			}
			m.byName[n] = len(m.entries)
		}
		m.entries = append(m.entries, e)
	}
	return m, nil
}

func parseEntry(raw json.RawMessage, sets map[string][]string) (Entry, error) {
	// labels is either a label-set name or an inline list.
	var probe struct {
		Labels json.RawMessage `json:"labels"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return Entry{}, err
	}
	var e Entry
	type plain Entry // no methods, so no recursion
	var set string
	if len(probe.Labels) > 0 && probe.Labels[0] == '"' {
		if err := json.Unmarshal(probe.Labels, &set); err != nil {
			return Entry{}, err
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return Entry{}, err
		}
		delete(obj, "labels")
		raw, _ = json.Marshal(obj)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode((*plain)(&e)); err != nil {
		return Entry{}, err
	}
	if set != "" {
		labels, ok := sets[set]
		if !ok {
			return Entry{}, fmt.Errorf("%q: unknown label set %q", e.Name, set)
		}
		e.LabelSet, e.Labels = set, labels
	}
	return e, e.validate()
}

func (e *Entry) validate() error {
	if err := ValidateName(e.Name); err != nil {
		return err
	}
	for _, a := range e.Aliases {
		if err := ValidateName(a); err != nil {
			return fmt.Errorf("%q: alias: %w", e.Name, err)
		}
	}
	if e.Arch == "" {
		return fmt.Errorf("%q: no arch", e.Name)
	}
	in := e.Input
	if len(in.Shape) != 3 || in.Shape[0] <= 0 || in.Shape[1] <= 0 || in.Shape[2] <= 0 {
		return fmt.Errorf("%q: input.shape %v, want [C, H, W] with positive sizes", e.Name, in.Shape)
	}
	if c := in.Shape[0]; c != 1 && c != 3 {
		return fmt.Errorf("%q: input.shape has %d channels, want 1 or 3", e.Name, c)
	}
	if len(in.Mean) != in.Shape[0] || len(in.Std) != in.Shape[0] {
		return fmt.Errorf("%q: input.mean/std need %d values each, got %d and %d", e.Name, in.Shape[0], len(in.Mean), len(in.Std))
	}
	for _, s := range in.Std {
		if !(s > 0) {
			return fmt.Errorf("%q: input.std %v has a value that is not > 0", e.Name, in.Std)
		}
	}
	if in.Crop != 0 && (in.Crop != in.Shape[1] || in.Crop != in.Shape[2]) {
		return fmt.Errorf("%q: input.crop %d differs from input.shape %v", e.Name, in.Crop, in.Shape)
	}
	if in.Resize < 0 || !(in.Scale > 0) {
		return fmt.Errorf("%q: input.resize %d / input.scale %v out of range", e.Name, in.Resize, in.Scale)
	}
	if in.Interpolation != "bilinear" {
		return fmt.Errorf("%q: input.interpolation %q, only \"bilinear\" is implemented", e.Name, in.Interpolation)
	}
	if e.Args.NumClasses > 0 && len(e.Labels) > 0 && len(e.Labels) != e.Args.NumClasses {
		return fmt.Errorf("%q: %d labels for %d classes", e.Name, len(e.Labels), e.Args.NumClasses)
	}
	if err := validateKey(e.Weights.Key); err != nil {
		return fmt.Errorf("%q: weights: %w", e.Name, err)
	}
	if e.Weights.Format != "onnx" {
		return fmt.Errorf("%q: weights.format %q, want \"onnx\"", e.Name, e.Weights.Format)
	}
	if s := e.Weights.SHA256; s != "" && !hexRE.MatchString(s) {
		return fmt.Errorf("%q: weights.sha256 %q is not 64 lower-case hex digits", e.Name, s)
	}
	if e.Weights.SHA256 != "" && e.Weights.Size <= 0 {
		return fmt.Errorf("%q: weights.size must be set with weights.sha256", e.Name)
	}
	switch e.Accuracy.Source {
	case "paper", "readme", "measured", "none":
	default:
		return fmt.Errorf("%q: accuracy.source %q, want paper, readme, measured or none", e.Name, e.Accuracy.Source)
	}
	if u := e.Upstream; u != nil {
		if u.Base == "" || !strings.HasPrefix(u.Path, "/") || u.Format == "" {
			return fmt.Errorf("%q: upstream needs base, an absolute path and format", e.Name)
		}
		if s := u.SHA256; s != "" && !hexRE.MatchString(s) {
			return fmt.Errorf("%q: upstream.sha256 %q is not 64 lower-case hex digits", e.Name, s)
		}
	}
	return nil
}

// Lookup returns the entry for a name or alias.
func (m *Manifest) Lookup(name string) (Entry, error) {
	if err := ValidateName(name); err != nil {
		return Entry{}, fmt.Errorf("hub: %w", err)
	}
	i, ok := m.byName[name]
	if !ok {
		return Entry{}, fmt.Errorf("hub: %q: %w", name, ErrUnknownModel)
	}
	return m.entries[i], nil
}

// Names returns the sorted canonical names (not aliases) matching a
// path.Match pattern; "" and "*" match all. A malformed pattern matches nothing.
func (m *Manifest) Names(pattern string) []string {
	if pattern == "" {
		pattern = "*"
	}
	var out []string
	for _, e := range m.entries {
		if ok, err := path.Match(pattern, e.Name); err == nil && ok {
			out = append(out, e.Name)
		}
	}
	sort.Strings(out)
	return out
}

// LabelSet returns the manifest's label set called name (label_sets in
// weights.json), or nil when it has none by that name.
func (m *Manifest) LabelSet(name string) []string {
	return append([]string(nil), m.labelSets[name]...)
}

// Entries returns a copy of every entry, in manifest order: for programs
// that walk the whole zoo (the README's model table and the tests do;
// Names and Lookup serve single names).
func (m *Manifest) Entries() []Entry {
	return append([]Entry(nil), m.entries...)
}
