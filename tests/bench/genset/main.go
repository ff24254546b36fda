// Command genset writes one generated profile set (tests/gen) into a
// directory, one file per profile, for benchmarks that need a large
// profile: go run ./bench/genset -o DIR [-seed N] [-profiles N] [-big].
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"pgofetch/tests/gen"
)

func main() {
	out := flag.String("o", "", "directory to write the set into")
	seed := flag.Uint64("seed", 5000, "the set's seed")
	profiles := flag.Int("profiles", 12, "at most this many profiles")
	big := flag.Bool("big", true, "thousands of samples per profile")
	flag.Parse()
	if *out == "" {
		log.Fatal("genset: -o DIR is required")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	s := gen.NewSet(*seed, gen.Options{Big: *big, MaxProfiles: *profiles})
	for i, f := range s.Files {
		p := filepath.Join(*out, fmt.Sprintf("p%02d.pb.gz", i))
		if err := os.WriteFile(p, gen.Gzipped(f.Raw), 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Println(p)
	}
}
