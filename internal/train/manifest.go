package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"

	"github.com/fmixzoo/zoo/hub"

	"github.com/fmixzoo/zoo/internal/atomicfile"
)

// UpsertManifestEntry adds e to the weights.json at path, or replaces the
// entry of the same name, leaving every other byte of the file as it was.
// labelSet, when not "", is written as the entry's labels (a reference into
// the manifest's label_sets) instead of the list. The result is checked with
// hub.ParseManifest before the file is replaced.
func UpsertManifestEntry(path string, e hub.Entry, labelSet string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("train: update manifest: %w", err)
	}
	out, err := upsertEntry(data, e, labelSet)
	if err != nil {
		return fmt.Errorf("train: update manifest %s: %w", path, err)
	}
	if _, err := hub.ParseManifest(out); err != nil {
		return fmt.Errorf("train: update manifest %s: the result does not parse: %w", path, err)
	}
	if err := atomicfile.Write(path, out, 0o644); err != nil {
		return fmt.Errorf("train: update manifest: %w", err)
	}
	return nil
}

// numberArray matches a JSON array of numbers spread over lines by
// MarshalIndent, so it can be put back on one line as weights.json has it.
var numberArray = regexp.MustCompile(`\[\s*(-?[0-9.eE+-]+(?:,\s*-?[0-9.eE+-]+)*)\s*\]`)

// formatEntry renders e as weights.json writes entries: indented four
// spaces inside "models", number arrays on one line.
func formatEntry(e hub.Entry, labelSet string) ([]byte, error) {
	js, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(js, &obj); err != nil {
		return nil, err
	}
	delete(obj, "label_set")
	if labelSet != "" {
		obj["labels"], _ = json.Marshal(labelSet)
	}
	// Keep the manifest's field order rather than Go's sorted map order.
	order := []string{"name", "aliases", "description", "arch", "args", "dataset", "msda", "input", "labels", "accuracy", "weights", "upstream", "notes"}
	var b bytes.Buffer
	b.WriteString("{")
	first := true
	for _, k := range order {
		v, ok := obj[k]
		if !ok {
			continue
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		kj, _ := json.Marshal(k)
		b.Write(kj)
		b.WriteString(":")
		b.Write(v)
	}
	b.WriteString("}")
	var ind bytes.Buffer
	if err := json.Indent(&ind, b.Bytes(), "    ", "  "); err != nil {
		return nil, err
	}
	return numberArray.ReplaceAllFunc(ind.Bytes(), func(m []byte) []byte {
		inner := numberArray.FindSubmatch(m)[1]
		parts := regexp.MustCompile(`,\s*`).Split(string(inner), -1)
		var o bytes.Buffer
		o.WriteString("[")
		for i, p := range parts {
			if i > 0 {
				o.WriteString(", ")
			}
			o.WriteString(p)
		}
		o.WriteString("]")
		return o.Bytes()
	}), nil
}

// upsertEntry splices the formatted entry into the manifest text.
func upsertEntry(data []byte, e hub.Entry, labelSet string) ([]byte, error) {
	entry, err := formatEntry(e, labelSet)
	if err != nil {
		return nil, err
	}
	var f struct {
		Models []struct {
			Name string `json:"name"`
		} `json:"models"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	start, end, err := modelsArray(data)
	if err != nil {
		return nil, err
	}
	// Walk the objects of the models array by brace depth.
	spans := objectSpans(data[start:end])
	if len(spans) != len(f.Models) {
		return nil, fmt.Errorf("found %d model objects, the parser %d", len(spans), len(f.Models))
	}
	for i, m := range f.Models {
		if m.Name == e.Name {
			s, t := start+spans[i][0], start+spans[i][1]
			return append(append(append([]byte{}, data[:s]...), entry...), data[t:]...), nil
		}
	}
	// Append after the last object (or into the empty array).
	var out []byte
	if len(spans) == 0 {
		out = append(out, data[:start+1]...)
		out = append(out, "\n    "...)
		out = append(out, entry...)
		out = append(out, "\n  "...)
		return append(out, data[end-1:]...), nil
	}
	last := start + spans[len(spans)-1][1]
	out = append(out, data[:last]...)
	out = append(out, ",\n    "...)
	out = append(out, entry...)
	return append(out, data[last:]...), nil
}

// modelsArray finds the byte range of the top-level "models" array,
// [ included and ] included.
func modelsArray(data []byte) (int, int, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return 0, 0, fmt.Errorf("no top-level \"models\" array")
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 && t == "models" {
				off := int(dec.InputOffset())
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return 0, 0, err
				}
				s := off + bytes.IndexByte(data[off:], '[')
				return s, s + len(bytes.TrimRight(data[s:int(dec.InputOffset())], " \t\r\n")), nil
			}
		}
	}
}

// objectSpans returns the [start, end) of each top-level object inside a
// JSON array's text, skipping braces inside strings.
func objectSpans(arr []byte) [][2]int {
	var spans [][2]int
	depth, start := 0, 0
	inStr, esc := false, false
	for i, c := range arr {
		switch {
		case inStr:
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{':
			if depth == 0 {
				start = i
			}
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				spans = append(spans, [2]int{start, i + 1})
			}
		}
	}
	return spans
}

// ManifestLabelSet returns the label set called name from weights.json
// text, or nil when it has none by that name.
func ManifestLabelSet(data []byte, name string) ([]string, error) {
	var f struct {
		LabelSets map[string][]string `json:"label_sets"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("train: read label sets: %w", err)
	}
	return f.LabelSets[name], nil
}
