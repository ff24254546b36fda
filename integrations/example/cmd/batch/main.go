// Command batch runs the example's workload for a fixed number of
// iterations, prints its checksum and exits: a second main package, so the
// build integrations can test building two PGO binaries in parallel.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"

	"example.com/pgofetch-example/internal/work"
)

func main() {
	iterations := flag.Int("iterations", 20000, "units of work to run")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "goroutines sharing the work")
	flag.Parse()
	if flag.NArg() != 0 || *iterations < 0 || *workers < 1 {
		flag.Usage()
		os.Exit(2)
	}
	// The checksum depends only on -iterations, so a PGO build and a
	// plain build can be checked against each other.
	fmt.Printf("%016x\n", work.Batch(*iterations, *workers))
}
