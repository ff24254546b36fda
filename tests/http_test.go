package tests

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"pgofetch/tests/gen"
)

// An http -in source: a net/http/pprof endpoint served by the test. The
// profile pgofetch writes is the served one, merged as refmerge does.
func TestHTTPSource(t *testing.T) {
	requireBinary(t)
	set := gen.NewSet(77, gen.Options{MaxProfiles: 1})
	served := set.Files[0].Data
	var hits atomic.Int32
	var query atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/pprof/profile" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		query.Store(r.URL.Query().Get("seconds"))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(served)
	}))
	defer srv.Close()

	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "served.pprof"), served)
	dest := filepath.Join(dir, "default.pgo")
	url := srv.URL + "/debug/pprof/profile?seconds=1"
	r := pgofetch(t, "-trim=false", "-comment=false", "-fail", "-in", url, dest)
	if r.code != 0 {
		t.Fatalf("pgofetch failed\n%s", r)
	}
	if hits.Load() != 1 {
		t.Errorf("the endpoint was asked %d times, want 1", hits.Load())
	}
	if q, _ := query.Load().(string); q != "1" {
		t.Errorf("seconds=%q reached the server, want 1", q)
	}
	if r.stdout != "" {
		t.Errorf("stdout not empty: %q", r.stdout)
	}
	if got, want := gunzip(t, readFile(t, dest)), oracle(t, true, file); !bytes.Equal(got, want) {
		t.Errorf("DEST from %s differs from refmerge's output\n%s", url, explain(t, got, want))
	}

	// The URL and a file together, merged in order.
	dest2 := filepath.Join(dir, "two.pgo")
	r = pgofetch(t, "-trim=false", "-comment=false", "-fail", "-in", url, "-in", file, dest2)
	if r.code != 0 {
		t.Fatalf("pgofetch failed\n%s", r)
	}
	if got, want := gunzip(t, readFile(t, dest2)), oracle(t, true, file, file); !bytes.Equal(got, want) {
		t.Errorf("DEST from the URL and the file differs from refmerge's output\n%s", explain(t, got, want))
	}
}

// HTTP failures: error answers are unreadable sources (3), a body that is
// not a profile is bad data (4), a dead or slow server is a source error.
func TestHTTPSourceFailures(t *testing.T) {
	requireBinary(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/404", http.NotFound)
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "profiling already in progress", http.StatusInternalServerError)
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!DOCTYPE html><html><body>not a profile</body></html>\n"))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(20 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close) // after the parallel subtests

	// a port nothing listens on
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/debug/pprof/profile?seconds=1"
	l.Close()

	cases := []struct {
		name  string
		url   string
		extra []string
		code  int
		says  []string
	}{
		{"404", srv.URL + "/404?seconds=1", nil, exitSource, []string{`404`}},
		{"500", srv.URL + "/500?seconds=1", nil, exitSource, []string{`500`}},
		{"not a profile", srv.URL + "/html?seconds=1", nil, exitData, []string{`profile|protobuf|wire|varint|field|malformed|parse`}},
		{"connection refused", dead, nil, exitSource, []string{`connect|refused`}},
		{"timeout", srv.URL + "/slow?seconds=1", []string{"-timeout", "1s"}, exitSource, []string{`time(d)? ?out|deadline`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, fail := range []bool{false, true} {
				start := time.Now()
				checkFailure(t, append(append([]string{}, c.extra...), "-in", c.url), fail, c.code, c.says, []string{c.url})
				if c.name == "timeout" && time.Since(start) > 10*time.Second {
					t.Errorf("-timeout 1s took %v", time.Since(start))
				}
			}
		})
	}
}
