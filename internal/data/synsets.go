package data

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// SynsetFileNames are the synset lists verify looks for in an ImageNet
// directory when none is named: the Kaggle / ILSVRC LOC_synset_mapping.txt,
// Caffe's synset_words.txt, MXNet's synset.txt, and synsets.txt (one WordNet
// id per line).
var SynsetFileNames = []string{"LOC_synset_mapping.txt", "synset_words.txt", "synset.txt", "synsets.txt"}

var wnid = regexp.MustCompile(`^n[0-9]{8}$`)

// ReadSynsets reads a synset list: one WordNet id per line ("n01440764"),
// optionally followed by a space and names ("n01440764 tench, Tinca tinca").
// Line i is class i. The ids must be distinct and in ascending order, the
// order torchvision's ImageNet classes follow (ILSVRC-2012: 1000 ids,
// n01440764 "tench" first).
func ReadSynsets(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: read synset list: %w: %w", ErrDataset, err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		id, _, _ := strings.Cut(line, " ")
		if !wnid.MatchString(id) {
			return nil, fmt.Errorf("data: synset list %s line %d: %q is not a WordNet id (want n########): %w", path, n, id, ErrDataset)
		}
		if len(out) > 0 && id <= out[len(out)-1] {
			return nil, fmt.Errorf("data: synset list %s line %d: %s does not follow %s (want distinct ids in ascending order, as torchvision's class indices are): %w",
				path, n, id, out[len(out)-1], ErrDataset)
		}
		if len(out) == 100000 {
			return nil, fmt.Errorf("data: synset list %s: more than 100000 lines: %w", path, ErrDataset)
		}
		out = append(out, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: read synset list %s: %w: %w", path, ErrDataset, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("data: synset list %s is empty: %w", path, ErrDataset)
	}
	return out, nil
}

// FindSynsets returns the first of SynsetFileNames present in dirs.
func FindSynsets(dirs ...string) (string, error) {
	for _, d := range dirs {
		for _, n := range SynsetFileNames {
			p := filepath.Join(d, n)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("data: no synset list (%s) in %s; pass --synsets FILE: %w",
		strings.Join(SynsetFileNames, ", "), strings.Join(dirs, ", "), ErrDataset)
}

// OpenSynsetFolder indexes an ImageNet validation tree in the
// folder-per-synset layout (dir/n01440764/*.JPEG). Labels are the folders'
// positions in synsets, never their order among the folders present, so a
// subset of the classes maps right. A folder that is not in the list is an
// error; NumClasses is len(synsets).
func OpenSynsetFolder(dir string, synsets []string) (Dataset, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: read ImageNet folder %s (want one folder per synset): %w: %w", dir, ErrDataset, err)
	}
	index := make(map[string]int, len(synsets))
	for i, s := range synsets {
		index[s] = i
	}
	d := &folderDataset{classes: slices.Clone(synsets)}
	var folders []string
	loose := 0
	for _, e := range entries {
		switch {
		case e.IsDir():
			folders = append(folders, e.Name())
		case strings.EqualFold(filepath.Ext(e.Name()), ".jpeg") || strings.EqualFold(filepath.Ext(e.Name()), ".jpg"):
			loose++
		}
	}
	if len(folders) == 0 && loose > 0 {
		return nil, fmt.Errorf("data: ImageNet folder %s holds %d images and no synset folders: sort them into one folder per synset first (Kaggle's copy: by LOC_val_solution.csv; the ILSVRC devkit: by ILSVRC2012_validation_ground_truth.txt): %w",
			dir, loose, ErrDataset)
	}
	sort.Strings(folders)
	for _, name := range folders {
		label, ok := index[name]
		if !ok {
			return nil, fmt.Errorf("data: ImageNet folder %s: %q is not in the synset list (%d synsets, %s … %s): %w",
				dir, name, len(synsets), synsets[0], synsets[len(synsets)-1], ErrDataset)
		}
		if err := d.addFolder(filepath.Join(dir, name), label, "synset"); err != nil {
			return nil, err
		}
	}
	if len(d.paths) == 0 {
		return nil, fmt.Errorf("data: ImageNet folder %s: no JPEG or PNG files in synset folders: %w", dir, ErrDataset)
	}
	return d, nil
}

// OpenImageNetVal opens the validation images under dir (dir/val when it
// exists, else dir itself) with the synset list synsetsFile, or the first of
// SynsetFileNames found in the images' folder or the one above it.
func OpenImageNetVal(dir, synsetsFile string) (Dataset, error) {
	if dir == "" {
		return nil, fmt.Errorf("data: imagenet has no default location; pass --data DIR (DIR/val/n01440764/*.JPEG …): %w", ErrDataset)
	}
	val := dir
	if st, err := os.Stat(filepath.Join(dir, "val")); err == nil && st.IsDir() {
		val = filepath.Join(dir, "val")
	}
	if synsetsFile == "" {
		var err error
		if synsetsFile, err = FindSynsets(val, filepath.Dir(val)); err != nil {
			return nil, err
		}
	}
	synsets, err := ReadSynsets(synsetsFile)
	if err != nil {
		return nil, err
	}
	return OpenSynsetFolder(val, synsets)
}
