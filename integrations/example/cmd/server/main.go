// Command server is the example service: an HTTP server with net/http/pprof
// that keeps a CPU-heavy workload running in the background, so that
//
//	curl 'http://127.0.0.1:6060/debug/pprof/profile?seconds=5'
//
// returns a CPU profile with hot call edges for Go's PGO to act on.
// It stops cleanly on SIGTERM or SIGINT, or after -duration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"example.com/pgofetch-example/internal/work"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6060", "listen address")
	workers := flag.Int("workers", 2, "background goroutines running the workload")
	duration := flag.Duration("duration", 0, "exit after this long (0: run until SIGTERM/SIGINT)")
	flag.Parse()
	if flag.NArg() != 0 || *workers < 0 || *duration < 0 {
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}

	// One unit of work per request too, so the service does something
	// a client can see: GET /work?seed=N answers the unit's checksum.
	http.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		seed, _ := strconv.ParseUint(r.URL.Query().Get("seed"), 10, 64)
		fmt.Fprintf(w, "%016x\n", work.NewState().Unit(seed))
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("server: %v", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Printf("server: listening on http://%s (pprof at /debug/pprof/), %d workers", ln.Addr(), *workers)

	done := make(chan uint64, 1)
	go func() { done <- work.Run(ctx, *workers) }()

	select {
	case <-ctx.Done():
	case err := <-served:
		log.Fatalf("server: %v", err)
	}
	// A profile being taken when the signal comes may be cut short; a
	// grace period lets short requests finish without holding up exit.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Printf("server: shutdown: %v", err)
	}
	log.Printf("server: stopped after %d units of work", <-done)
}
