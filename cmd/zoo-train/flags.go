package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// newFlagSet returns the flag set of the sub-command name: it reports
// errors on stderr, and -h prints usage (the usage line and what the
// command does, each line ended), a blank line and the flags.
func newFlagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseNames parses args with parseInterspersed and returns the model
// names among them; none is an error, after the usage.
func parseNames(fs *flag.FlagSet, args []string) ([]string, error) {
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		fs.Usage()
		return nil, errors.New("no model names")
	}
	return names, nil
}

// parseInterspersed parses flags that come before, between or after the
// positional arguments (verify NAME --data DIR, as users type it) and
// returns the positional ones; "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
