// Command fakedd runs the fake Datadog API (package pgofetch/tests/fakedd)
// for shell, Make, CMake and Bazel tests. See tests/fakedd/README.md.
//
//	fakedd -statedir DIR [-profiles DIR] [-http] [-addr 127.0.0.1:0]
//	       [-api-key K -app-key K] [-zip deflate|store|mixed]
//	       [-synthetic N] [-redirect-host localhost] [-drip-interval 1s]
//	       [-latency 100ms]
//
// It writes DIR/ca.pem, DIR/addr, DIR/redirect-url, DIR/pid and, last and
// atomically, DIR/url, then serves until SIGTERM or SIGINT. The keys come
// from -api-key/-app-key, else DD_API_KEY/DD_APP_KEY, else the package's
// test keys; they are never printed.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"pgofetch/tests/fakedd"
)

func main() {
	stateDir := flag.String("statedir", "", "directory for the state files, logs and control files (required)")
	profilesDir := flag.String("profiles", "", "directory of profiles to serve (files: any service; subdirectory NAME: service NAME)")
	plainHTTP := flag.Bool("http", false, "serve plain HTTP instead of TLS")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	apiKey := flag.String("api-key", "", "the API key to accept (default $DD_API_KEY, else the test key)")
	appKey := flag.String("app-key", "", "the application key to accept (default $DD_APP_KEY, else the test key)")
	zipMethod := flag.String("zip", fakedd.ZipDeflate, "ZIP entry method: deflate, store or mixed")
	synthetic := flag.Int("synthetic", 0, "also serve N synthetic CPU profiles (ids synthetic-1..N)")
	redirectHost := flag.String("redirect-host", "localhost", "host name of the redirect fault's target")
	drip := flag.Duration("drip-interval", time.Second, "pause between bytes of the drip fault")
	latency := flag.Duration("latency", 0, "delay every API answer by this much (a round trip)")
	quiet := flag.Bool("q", false, "no diagnostics on stderr")
	flag.Parse()
	if *stateDir == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: fakedd -statedir DIR [-profiles DIR] [-http] [-addr HOST:PORT] [flags]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	if *apiKey == "" {
		*apiKey = os.Getenv("DD_API_KEY")
	}
	if *appKey == "" {
		*appKey = os.Getenv("DD_APP_KEY")
	}
	logger := log.New(os.Stderr, "", log.LstdFlags)
	logf := logger.Printf
	if *quiet {
		logf = func(string, ...any) {}
	}

	// Catch the signals before url exists: a script may send SIGTERM as
	// soon as it sees the file, and must get a clean exit.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)

	srv, err := fakedd.Start(fakedd.Options{
		Addr:         *addr,
		HTTP:         *plainHTTP,
		APIKey:       *apiKey,
		AppKey:       *appKey,
		ProfilesDir:  *profilesDir,
		StateDir:     *stateDir,
		ZipMethod:    *zipMethod,
		RedirectHost: *redirectHost,
		DripInterval: *drip,
		Latency:      *latency,
		Logf:         logf,
		// The synthetic profiles must exist before url is written,
		// so they are added through Setup, which runs before that.
		Setup: func(s *fakedd.Server) error {
			for i := 1; i <= *synthetic; i++ {
				p := fakedd.Profile{
					ID:   fmt.Sprintf("synthetic-%d", i),
					Data: fakedd.SyntheticCPUProfile(i, float64(i), time.Minute),
				}
				if err := s.AddProfile(p); err != nil {
					return err
				}
			}
			return nil
		},
	})
	if err != nil {
		logger.Fatal(err)
	}
	logf("fakedd: serving %s (redirect target %s), state in %s", srv.URL(), srv.RedirectURL(), *stateDir)

	<-sig
	srv.Close()
	logf("fakedd: stopped")
}
