// Command fuzzseeds writes the seed corpora of pgofetch's fuzz targets
// (core/fuzz) from generated profile sets (tests/gen) and the real profile
// in core/tests/data/pprof:
//
//	go run ./cmd/fuzzseeds -real ../core/tests/data/pprof/grpc-anon.pprof -out fuzz/corpus
//
// from tests/. The output is deterministic; it is committed under
// tests/fuzz/corpus, next to tests/fuzz/crashes (inputs that once crashed).
package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"pgofetch/tests/gen"
)

func main() {
	real := flag.String("real", "", "a real gzip pprof profile to seed from")
	out := flag.String("out", "fuzz/corpus", "where the corpora go, one directory per target")
	flag.Parse()
	seeds := map[string][][]byte{}
	add := func(target string, data []byte) { seeds[target] = append(seeds[target], data) }

	for seed := uint64(1); seed <= 12; seed++ {
		set := gen.NewSet(seed, gen.Options{MaxProfiles: 2, Exotic: seed%3 == 0, Negative: seed%4 == 0, WeirdStrings: seed%5 == 0})
		for _, f := range set.Files {
			add("pprof", f.Raw)
			add("decompress", f.Data)
		}
		if len(set.Files) == 2 {
			a, b := set.Files[0].Raw, set.Files[1].Raw
			add("merge", append([]byte{byte(len(a) >> 8), byte(len(a))}, append(append([]byte{}, a...), b...)...))
		}
		var entries []gen.ZipEntry
		for i, f := range set.Files {
			entries = append(entries, gen.ZipEntry{Name: fmt.Sprintf("p%d", i), Data: f.Data, Method: uint16(8 * (i % 2))})
		}
		add("zip", gen.Zip(entries))
	}
	if *real != "" {
		data, err := os.ReadFile(*real)
		check(err)
		add("decompress", data)
		zr, err := gzip.NewReader(bytes.NewReader(data))
		check(err)
		raw, err := io.ReadAll(zr)
		check(err)
		add("pprof", raw)
		add("zip", zipOf("cpu.pprof", data))
	}
	add("dd_json", []byte(`{"data":[{"id":"ev1","attributes":{"id":"p1","service":"foo","duration_nanos":60000000000,"timestamp":"2026-11-21T09:58:00Z","custom":{"metrics":{"core_cpu_cores":3.2}}}}]}`))
	add("dd_json", []byte(`{"data":[]}`))
	add("dd_json", []byte(`{"data":[{"id":"a","attributes":{"id":"b"}},{"id":"c","attributes":{"id":"d","custom":{}}}]}`))
	for _, args := range []string{"-in\x00a.pprof\x00dest", "--fail\x00-timeout=1m30s\x00q\x00d", "-profiles\x000x10\x00-from\x0072h\x00q\x00d",
		"-v\x00-json\x00-noinline=false\x00--\x00-d", "-max-age\x001.5h\x00-endpoint\x00legacy\x00q\x00d"} {
		add("flags", []byte(args))
	}
	for target, list := range seeds {
		dir := filepath.Join(*out, target)
		check(os.MkdirAll(dir, 0o755))
		for _, data := range list {
			sum := sha256.Sum256(data)
			check(os.WriteFile(filepath.Join(dir, "seed-"+hex.EncodeToString(sum[:8])), data, 0o644))
		}
	}
	fmt.Println("wrote corpora for", strings.Join(keys(seeds), ", "))
}

func zipOf(name string, data []byte) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, err := w.Create(name)
	check(err)
	_, err = f.Write(data)
	check(err)
	check(w.Close())
	return b.Bytes()
}

func keys(m map[string][][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzzseeds:", err)
		os.Exit(1)
	}
}
