package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/fmixzoo/zoo/internal/atomicfile"
)

// maxManifestSize bounds a manifest read from a file or URL.
const maxManifestSize = 16 << 20

// ReadManifest reads a manifest from a file path or an http(s) URL.
func ReadManifest(ctx context.Context, src string, client *http.Client) (*Manifest, error) {
	var data []byte
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		if client == nil {
			client = defaultHTTPClient()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, fmt.Errorf("hub: read manifest %s: %w", redactURL(src), err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("hub: read manifest %s: %w", redactURL(src), unwrapURLError(err))
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("hub: read manifest %s: HTTP %d", redactURL(src), resp.StatusCode)
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
		if err != nil {
			return nil, fmt.Errorf("hub: read manifest %s: %w", redactURL(src), err)
		}
	} else {
		f, err := os.Open(src)
		if err != nil {
			return nil, fmt.Errorf("hub: read manifest: %w", err)
		}
		defer f.Close()
		data, err = io.ReadAll(io.LimitReader(f, maxManifestSize+1))
		if err != nil {
			return nil, fmt.Errorf("hub: read manifest: %w", err)
		}
	}
	if len(data) > maxManifestSize {
		return nil, fmt.Errorf("hub: read manifest %s: larger than %d bytes", redactURL(src), maxManifestSize)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, redactURL(src))
	}
	return m, nil
}

// UpsertManifestEntry adds e to the weights.json file at path, or replaces
// the entry of the same name, leaving every other byte of the file as it
// was. When e.LabelSet is not "", the entry's labels are written as that
// reference into the manifest's label_sets instead of the list. The result
// is checked with ParseManifest before the file is replaced (atomically),
// so a failed update leaves the file alone.
func UpsertManifestEntry(path string, e Entry) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("hub: update manifest: %w", err)
	}
	out, err := upsertEntry(data, e)
	if err != nil {
		return fmt.Errorf("hub: update manifest %s: %w", path, err)
	}
	if _, err := ParseManifest(out); err != nil {
		return fmt.Errorf("hub: update manifest %s: the result does not parse: %w", path, err)
	}
	if err := atomicfile.Write(path, out, 0o644); err != nil {
		return fmt.Errorf("hub: update manifest: %w", err)
	}
	return nil
}

// entryFieldOrder is the order weights.json writes an entry's fields in
// (Go would sort a map's keys).
var entryFieldOrder = []string{"name", "aliases", "description", "arch", "args", "dataset", "msda", "input",
	"labels", "accuracy", "weights", "upstream", "notes"}

var (
	// numberArray matches a JSON array of numbers spread over lines by
	// json.Indent, so it can be put back on one line as weights.json has it.
	numberArray = regexp.MustCompile(`\[\s*(-?[0-9.eE+-]+(?:,\s*-?[0-9.eE+-]+)*)\s*\]`)
	commaSpace  = regexp.MustCompile(`,\s*`)
)

// formatEntry renders e as weights.json writes entries: indented four
// spaces inside "models", fields in entryFieldOrder, number arrays on one
// line, labels as the label-set reference when e.LabelSet is set.
func formatEntry(e Entry) ([]byte, error) {
	js, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(js, &obj); err != nil {
		return nil, err
	}
	delete(obj, "label_set")
	if e.LabelSet != "" {
		obj["labels"], _ = json.Marshal(e.LabelSet)
	}
	var b bytes.Buffer
	b.WriteString("{")
	for _, k := range entryFieldOrder {
		v, ok := obj[k]
		if !ok {
			continue
		}
		if b.Len() > 1 {
			b.WriteString(",")
		}
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
		return []byte("[" + strings.Join(commaSpace.Split(string(inner), -1), ", ") + "]")
	}), nil
}

// upsertEntry splices the formatted entry into the manifest text.
func upsertEntry(data []byte, e Entry) ([]byte, error) {
	entry, err := formatEntry(e)
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
