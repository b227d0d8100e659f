package fmixzoo_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/hub"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite README.md's zoo table from weights.json")

const (
	tableBegin = "<!-- zoo-table: generated from weights.json by `go test . -run TestREADMEZooTable -update-readme` -->"
	tableEnd   = "<!-- /zoo-table -->"
)

// TestREADMEZooTable keeps the README's table of models equal to weights.json:
// a model added, re-trained or re-measured changes the manifest, and this test
// fails until the README says the same.
func TestREADMEZooTable(t *testing.T) {
	data, err := os.ReadFile("weights.json")
	require.NoError(t, err)
	m, err := hub.ParseManifest(data)
	require.NoError(t, err)
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)

	doc := string(readme)
	i, j := strings.Index(doc, tableBegin), strings.Index(doc, tableEnd)
	require.True(t, i >= 0 && j > i, "README.md lacks the markers %q … %q", tableBegin, tableEnd)
	want := tableBegin + "\n" + zooTable(m.Entries()) + tableEnd
	got := doc[i : j+len(tableEnd)]
	if *updateREADME && got != want {
		require.NoError(t, os.WriteFile("README.md", []byte(doc[:i]+want+doc[j+len(tableEnd):]), 0o644))
		return
	}
	require.Equal(t, want, got, "README.md's zoo table is stale: run go test . -run TestREADMEZooTable -update-readme")
}

// zooTable is the Markdown table of every entry: shipped (weights in the
// embedded store) first, in manifest order.
func zooTable(entries []hub.Entry) string {
	var b strings.Builder
	b.WriteString("| model | arch | dataset | MSDA | top-1 | top-5 | weights | accuracy source |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	row := func(e hub.Entry, weights string) {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | %s |\n",
			e.Name, archLabel(e), e.Dataset, e.MSDA, pct(e.Accuracy.Top1), pct(e.Accuracy.Top5), weights, e.Accuracy.Source)
	}
	for _, e := range entries {
		if e.Weights.Size > 0 {
			row(e, fmt.Sprintf("shipped, %.1f MB", float64(e.Weights.Size)/1e6))
		}
	}
	for _, e := range entries {
		if e.Weights.Size == 0 {
			row(e, "published upstream (.pt, converted on first load)")
		}
	}
	return b.String()
}

func archLabel(e hub.Entry) string {
	a := e.Args
	var opts []string
	for _, o := range []struct {
		name string
		v    float64
	}{{"depth", float64(a.Depth)}, {"alpha", a.Alpha}, {"width", float64(a.Width)}, {"widen", float64(a.Widen)}, {"growth", float64(a.Growth)}} {
		if o.v != 0 {
			opts = append(opts, fmt.Sprintf("%s %g", o.name, o.v))
		}
	}
	if len(opts) == 0 {
		return e.Arch
	}
	return e.Arch + " (" + strings.Join(opts, ", ") + ")"
}

func pct(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.2f", *v)
}
