// Command zoo-train trains FMix-zoo models, regenerates and publishes their
// checkpoints, imports the authors' PyTorch checkpoints and verifies reported
// accuracies.
//
// Usage:
//
//	zoo-train <command> [flags]
//
// Run `zoo-train help` for the list of commands and `zoo-train <command> -h`
// for the flags of one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/fmixzoo/zoo/kernels"
)

// command is one zoo-train sub-command. Each lives in its own file and adds
// itself to commands in an init function.
type command struct {
	summary string
	// run parses args (the arguments after the command's name) and does the work.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(name string, c command) {
	if _, dup := commands[name]; dup {
		panic("zoo-train: command registered twice: " + name)
	}
	commands[name] = c
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: zoo-train <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'zoo-train <command> -h' for the flags of a command.")
}

func main() {
	// Training's data goroutines and the sweep's parallel workers need the
	// processors between kernel calls: helpers spin briefly before they
	// park, as they always did here (kernels.ServerHelperSpin).
	kernels.SetHelperSpin(kernels.ServerHelperSpin)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "zoo-train: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "zoo-train %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
