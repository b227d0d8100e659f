package fmixzoo_test

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const modulePath = "github.com/fmixzoo/zoo"

// TestDesignPackageTable holds docs/DESIGN.md's package table to the code:
// every package of the module has a row, and the row's "imports" column
// names exactly the module-internal packages it imports (`go list`).
func TestDesignPackageTable(t *testing.T) {
	doc, err := os.ReadFile("docs/DESIGN.md")
	require.NoError(t, err)
	documented := designTable(t, string(doc))

	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}", "./...").Output()
	require.NoError(t, err, "go list")
	actual := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		var own []string
		for _, imp := range strings.Fields(imports) {
			if imp == modulePath || strings.HasPrefix(imp, modulePath+"/") {
				own = append(own, shortPkg(imp))
			}
		}
		sort.Strings(own)
		actual[shortPkg(pkg)] = own
	}

	var problems []string
	for pkg, own := range actual {
		doc, ok := documented[pkg]
		switch {
		case !ok:
			problems = append(problems, "no row for package `"+pkg+"` (imports: "+strings.Join(own, ", ")+")")
		case !slices.Equal(doc, own):
			problems = append(problems, "`"+pkg+"` imports "+listOrNone(own)+" but the table says "+listOrNone(doc))
		}
	}
	for pkg := range documented {
		if _, ok := actual[pkg]; !ok {
			problems = append(problems, "the table lists `"+pkg+"`, which is not a package of the module")
		}
	}
	sort.Strings(problems)
	require.Empty(t, problems, "docs/DESIGN.md's package table disagrees with go list")
}

// designTable parses the "| package | what it owns | imports |" table: the
// first column's `names` (one or more), the third column's comma-separated
// names ("—" for none; text in parentheses is a remark, not an import). The
// repository root package is written `fmixzoo`.
func designTable(t *testing.T, doc string) map[string][]string {
	t.Helper()
	i := strings.Index(doc, "| package | what it owns | imports (module-internal) |")
	require.True(t, i >= 0, "docs/DESIGN.md has no package table")
	rows := map[string][]string{}
	names := regexp.MustCompile("`([^`]+)`")
	parenthesised := regexp.MustCompile(`\([^)]*\)`)
	for _, line := range strings.Split(doc[i:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cols := strings.Split(strings.Trim(line, "|"), "|")
		require.Len(t, cols, 3, "table row %q", line)
		var imports []string
		for _, imp := range strings.Split(parenthesised.ReplaceAllString(cols[2], ""), ",") {
			if imp = strings.Trim(strings.TrimSpace(imp), "`"); imp != "" && imp != "—" {
				if imp == "fmixzoo" {
					imp = "."
				}
				imports = append(imports, imp)
			}
		}
		sort.Strings(imports)
		for _, m := range names.FindAllStringSubmatch(cols[0], -1) {
			pkg := m[1]
			if pkg == "fmixzoo" {
				pkg = "."
			}
			rows[pkg] = imports
		}
	}
	return rows
}

func shortPkg(p string) string {
	if p == modulePath {
		return "."
	}
	return strings.TrimPrefix(p, modulePath+"/")
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "nothing"
	}
	return strings.Join(l, ", ")
}
