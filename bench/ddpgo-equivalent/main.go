// Command ddpgo-equivalent does, step for step, what Datadog's datadog-pgo
// does to fetch and merge profiles (its pgo/client.go and pgo/pgo.go), so
// that the benchmark has a runnable stand-in for it. It is a
// reconstruction written for this benchmark, not datadog-pgo itself: the Go
// module proxy refuses github.com/DataDog/datadog-pgo on the machines this
// project runs on, so the real tool cannot be installed here.
//
// What it does, as datadog-pgo does:
//   - one POST /api/unstable/profiles/gopgo for all queries (or, with
//     -legacy, POST .../list then GET each download, at most 5 requests at
//     once), through net/http's default transport, reading each answer
//     whole with io.ReadAll;
//   - archive/zip over the answer; each entry parsed with google/pprof's
//     profile.Parse (zstd entries decompressed first, as the tool's zstd
//     change reads them);
//   - every sample's labels dropped, then profile.Merge([acc, next]) for
//     each profile after the first;
//   - the no-inline rename of samples whose leaf is one of two functions;
//   - profile.Write (gzip) to DEST.
//
// It takes -api-url, which datadog-pgo only has for its tests.
package main

import (
	"archive/zip"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"
	"github.com/klauspost/compress/zstd"
)

var (
	apiURL   = flag.String("api-url", "", "API base URL")
	from     = flag.Duration("from", 72*time.Hour, "how far back to search")
	profiles = flag.Int("profiles", 5, "profiles per query")
	legacy   = flag.Bool("legacy", false, "list + download instead of the gopgo endpoint")
	noinline = flag.Bool("noinline", true, "the no-inline rename")
)

func main() {
	flag.Parse()
	if flag.NArg() < 2 || *apiURL == "" {
		fmt.Fprintln(os.Stderr, "usage: ddpgo-equivalent -api-url URL QUERY... DEST")
		os.Exit(2)
	}
	args := flag.Args()
	if err := run(args[:len(args)-1], args[len(args)-1]); err != nil {
		fmt.Fprintln(os.Stderr, "ddpgo-equivalent:", err)
		os.Exit(1)
	}
}

type query struct {
	Filter struct {
		From  string `json:"from"`
		To    string `json:"to"`
		Query string `json:"query"`
	} `json:"filter"`
	Sort struct {
		Order string `json:"order"`
		Field string `json:"field"`
	} `json:"sort"`
	Limit int `json:"limit"`
}

const timeFormat = "2006-01-02T15:04:05.999999999Z"

func run(queries []string, dest string) error {
	var qs []query
	for _, q := range queries {
		if !strings.Contains(q, "language:go") && !strings.Contains(q, "runtime:go") {
			q = strings.TrimSpace(q) + " runtime:go"
		}
		var sq query
		now := time.Now()
		sq.Filter.From = now.Add(-*from).UTC().Round(time.Second).Format(timeFormat)
		sq.Filter.To = now.UTC().Round(time.Second).Format(timeFormat)
		sq.Filter.Query = q
		sq.Sort.Order, sq.Sort.Field = "desc", "@metrics.core_cpu_cores"
		sq.Limit = *profiles
		qs = append(qs, sq)
	}
	if pem := os.Getenv("SSL_CERT_FILE"); pem != "" {
		// net/http reads SSL_CERT_FILE itself on Linux; this only makes
		// the trust explicit for the fake server's test CA.
		data, err := os.ReadFile(pem)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(data)
		http.DefaultTransport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	m := &merged{}
	var err error
	if *legacy {
		err = searchDownloadMerge(qs, m)
	} else {
		err = gopgo(qs, m)
	}
	if err != nil {
		return err
	}
	if m.p == nil {
		return errors.New("no profiles")
	}
	if *noinline {
		renameNoInline(m.p)
	}
	f, err := os.Create(dest)
	if err != nil {
		return err
	}
	if err := m.p.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// merged folds profiles in as datadog-pgo's MergedProfile does.
type merged struct {
	mu  sync.Mutex
	p   *profile.Profile
	ids []string
}

func (m *merged) add(id string, p *profile.Profile) (err error) {
	for _, s := range p.Sample {
		s.Label = nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ids = append(m.ids, id)
	if m.p == nil {
		m.p = p
		return nil
	}
	m.p, err = profile.Merge([]*profile.Profile{m.p, p})
	return err
}

func post(path string, payload any) ([]byte, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest("POST", *apiURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return do(req)
}

func do(req *http.Request) ([]byte, error) {
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ddpgo-equivalent/0")
	req.Header.Set("DD-APPLICATION-KEY", os.Getenv("DD_APP_KEY"))
	req.Header.Set("DD-API-KEY", os.Getenv("DD_API_KEY"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode < 200 || res.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, res.Status)
	}
	return data, nil
}

// parse reads a profile as profile.Parse does, zstd included.
func parse(r io.Reader) (*profile.Profile, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(data) >= 4 && bytes.Equal(data[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		d, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		defer d.Close()
		if data, err = io.ReadAll(d); err != nil {
			return nil, err
		}
	}
	return profile.ParseData(data)
}

func gopgo(qs []query, m *merged) error {
	data, err := post("/api/unstable/profiles/gopgo", map[string]any{"queries": qs})
	if err != nil {
		return err
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return err
		}
		p, err := parse(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if err := m.add(f.Name, p); err != nil {
			return err
		}
	}
	return nil
}

// searchDownloadMerge is the older path: list per query, then downloads,
// parses and merges, at most 5 requests in flight.
func searchDownloadMerge(qs []query, m *merged) error {
	sem := make(chan struct{}, 5)
	var wg sync.WaitGroup
	var firstErr error
	var errMu sync.Mutex
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	for _, q := range qs {
		wg.Add(1)
		go func(q query) {
			defer wg.Done()
			sem <- struct{}{}
			data, err := post("/api/unstable/profiles/list", q)
			<-sem
			if err != nil {
				fail(err)
				return
			}
			var list struct {
				Data []struct {
					ID         string `json:"id"`
					Attributes struct {
						ID string `json:"id"`
					} `json:"attributes"`
				} `json:"data"`
			}
			if err := json.Unmarshal(data, &list); err != nil {
				fail(err)
				return
			}
			if len(list.Data) > q.Limit {
				list.Data = list.Data[:q.Limit]
			}
			for _, it := range list.Data {
				wg.Add(1)
				go func(id, event string) {
					defer wg.Done()
					sem <- struct{}{}
					req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/ui/profiling/profiles/%s/download?eventId=%s", *apiURL, id, event), nil)
					data, err := do(req)
					<-sem
					if err != nil {
						fail(err)
						return
					}
					zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
					if err != nil {
						fail(err)
						return
					}
					for _, f := range zr.File {
						if filepath.Base(f.Name) != "cpu.pprof" {
							continue
						}
						rc, err := f.Open()
						if err != nil {
							fail(err)
							return
						}
						p, err := parse(rc)
						rc.Close()
						if err == nil {
							err = m.add(id, p)
						}
						if err != nil {
							fail(err)
						}
						return
					}
					fail(errors.New("no cpu.pprof in download"))
				}(it.Attributes.ID, it.ID)
			}
		}(q)
	}
	wg.Wait()
	return firstErr
}

func renameNoInline(p *profile.Profile) {
	names := []string{"google.golang.org/grpc/internal/transport.(*loopyWriter).processData", "runtime.gopark"}
	for _, s := range p.Sample {
		if len(s.Location) == 0 || len(s.Location[0].Line) == 0 {
			continue
		}
		fn := s.Location[0].Line[0].Function
		for _, n := range names {
			if fn.Name == n {
				fn.Name = "DO NOT INLINE: " + fn.Name
			}
		}
	}
}
