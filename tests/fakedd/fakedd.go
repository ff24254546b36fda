// Package fakedd is a fake of the Datadog profiling API that pgofetch
// speaks (docs/datadog-api.md; README.md beside this file states the facts
// of the real API it follows): the gopgo endpoint, the older list +
// download endpoints, their validation, and injectable faults.
//
// It is strict on purpose. The real service cannot be reached from build
// machines, so this fake is the only check that a client sends what Datadog
// accepts: a request the real API would refuse is refused here too.
//
// Start one in a Go test with Start, or run the fakedd binary
// (tests/cmd/fakedd) from a shell test; README.md beside this file
// documents both.
package fakedd

import (
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Test keys used when Options leave the keys empty. They look like nothing
// real and are long and distinctive, so a test can grep every output and
// file for them.
const (
	DefaultAPIKey = "fakedd0api0key0d41d8cd98f00b204e9"
	DefaultAppKey = "fakedd0app0key0da39a3ee5e6b4b0d3255bfef95601"
)

// ZIP entry methods for Options.ZipMethod.
const (
	ZipDeflate = "deflate" // every entry deflated (the default)
	ZipStore   = "store"   // every entry stored
	ZipMixed   = "mixed"   // entries alternate: deflated, stored, deflated, ...
)

// Options configure a fake server. The zero value is a working TLS server
// on a free loopback port with the default keys and no profiles.
type Options struct {
	// Addr is the listen address; default 127.0.0.1:0 (a free port).
	Addr string
	// HTTP serves plain HTTP instead of TLS.
	HTTP bool
	// APIKey and AppKey are the keys requests must carry; empty means
	// DefaultAPIKey and DefaultAppKey.
	APIKey, AppKey string
	// ProfilesDir, when set, is a directory of profile files served
	// besides those given to AddProfile. It is re-read on every request.
	ProfilesDir string
	// StateDir, when set, receives the state files (ca.pem, addr,
	// redirect-url, pid, url last), requests.log and redirect.log, and is
	// where the control files fault, outage and generation are read from.
	StateDir string
	// ZipMethod is ZipDeflate (default), ZipStore or ZipMixed.
	ZipMethod string
	// RedirectHost is the host name the redirect fault sends clients to
	// (the redirect target listens on the same address as the server, on
	// another port); default "localhost", a different host from the
	// 127.0.0.1 of URL().
	RedirectHost string
	// DripInterval is the pause between bytes of the drip fault;
	// default 1s.
	DripInterval time.Duration
	// Latency delays every API answer by this much once the request is
	// read, as a distant server would (a round trip); 0: none.
	Latency time.Duration
	// Gate, when above 1, holds every API request until Gate requests
	// are in flight at once (then lets all through, and every later one),
	// or 10 s have passed: a client that sends them one after the other
	// waits, and MaxInFlight says how many it ever had open at once.
	Gate int
	// Logf receives diagnostics (never a key); default: discarded.
	Logf func(format string, args ...any)
	// Setup, when set, runs once the server listens and before the state
	// files are written (so before url appears): the place to add
	// profiles a script must find from its first request on.
	Setup func(*Server) error
}

// Server is a running fake Datadog API.
type Server struct {
	opts        Options
	apiKey      []byte
	appKey      []byte
	pki         *testPKI // nil in plain-HTTP mode
	ln, redirLn net.Listener
	srv         *http.Server
	redirSrv    *http.Server
	url         string
	redirectURL string
	closing     chan struct{}
	closeOnce   sync.Once
	heap        []byte // the delta-heap.pprof of every download ZIP

	mu         sync.Mutex
	fault      fault
	outage     bool
	generation int
	added      []*Profile
	dir        *dirCache
	changed    map[string]*Profile // generation variants, by "<gen>/<id>"
	ctrlSeen   map[string]string   // control file name -> content+mtime last applied
	ctrlErr    map[string]error    // control file name -> why its content is invalid
	requests   []Request
	redirected []Request
	inFlight   int           // API requests being answered
	maxFlight  int           // the most at once
	gateOpen   chan struct{} // closed once Gate requests were in flight
	logFile    *os.File
	redirLog   *os.File
}

// Start starts a fake server and, when Options.StateDir is set, writes its
// state files there (url last, atomically, so a script may wait for it).
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.AppKey == "" {
		opts.AppKey = DefaultAppKey
	}
	if opts.APIKey == opts.AppKey {
		return nil, errors.New("fakedd: the API key and the application key must differ")
	}
	switch opts.ZipMethod {
	case "":
		opts.ZipMethod = ZipDeflate
	case ZipDeflate, ZipStore, ZipMixed:
	default:
		return nil, fmt.Errorf("fakedd: unknown ZIP method %q (deflate, store or mixed)", opts.ZipMethod)
	}
	if opts.RedirectHost == "" {
		opts.RedirectHost = "localhost"
	}
	if opts.DripInterval <= 0 {
		opts.DripInterval = time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	s := &Server{
		opts:     opts,
		apiKey:   []byte(opts.APIKey),
		appKey:   []byte(opts.AppKey),
		closing:  make(chan struct{}),
		changed:  map[string]*Profile{},
		ctrlSeen: map[string]string{},
		ctrlErr:  map[string]error{},
		heap:     syntheticHeapProfile(),
		gateOpen: make(chan struct{}),
	}
	if opts.ProfilesDir != "" {
		if st, err := os.Stat(opts.ProfilesDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("fakedd: profiles directory %s: not a readable directory", opts.ProfilesDir)
		}
		s.dir = &dirCache{dir: opts.ProfilesDir}
	}
	if !opts.HTTP {
		pki, err := newTestPKI([]string{opts.RedirectHost})
		if err != nil {
			return nil, fmt.Errorf("fakedd: making the test CA: %w", err)
		}
		s.pki = pki
	}
	if err := s.listen(); err != nil {
		s.Close()
		return nil, err
	}
	if opts.Setup != nil {
		if err := opts.Setup(s); err != nil {
			s.Close()
			return nil, err
		}
	}
	if opts.StateDir != "" {
		if err := s.writeStateFiles(); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) listen() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("fakedd: %w", err)
	}
	s.ln = ln
	// The redirect target listens on the same IP, another port; clients
	// reach it through RedirectHost, a different host name.
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	rln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return fmt.Errorf("fakedd: redirect target: %w", err)
	}
	s.redirLn = rln
	scheme := "http"
	if s.pki != nil {
		scheme = "https"
	}
	s.url = scheme + "://" + ln.Addr().String()
	_, rport, _ := net.SplitHostPort(rln.Addr().String())
	s.redirectURL = scheme + "://" + net.JoinHostPort(s.opts.RedirectHost, rport)

	errLog := log.New(logfWriter(s.opts.Logf), "", 0)
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveAPI),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          errLog,
		// An empty map turns HTTP/2 off: the connection-level faults
		// hijack the connection, which HTTP/2 does not allow.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	s.redirSrv = &http.Server{
		Handler:           http.HandlerFunc(s.serveRedirectTarget),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          errLog,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	if s.pki != nil {
		ln = tlsListener(ln, s.pki)
		rln = tlsListener(rln, s.pki)
	}
	go s.srv.Serve(ln)
	go s.redirSrv.Serve(rln)
	return nil
}

// writeStateFiles writes what a shell test needs to talk to the server.
// url comes last and atomically (written beside, then renamed): once it
// exists, everything else does and the server accepts connections.
func (s *Server) writeStateFiles() error {
	dir := s.opts.StateDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fakedd: state directory: %w", err)
	}
	var err error
	if s.logFile, err = os.OpenFile(filepath.Join(dir, "requests.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
		return fmt.Errorf("fakedd: %w", err)
	}
	if s.redirLog, err = os.OpenFile(filepath.Join(dir, "redirect.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
		return fmt.Errorf("fakedd: %w", err)
	}
	ca := s.CAPEM()
	files := []struct {
		name string
		data []byte
	}{
		{"ca.pem", ca},
		{"addr", []byte(s.Addr() + "\n")},
		{"redirect-url", []byte(s.redirectURL + "\n")},
		{"pid", []byte(strconv.Itoa(os.Getpid()) + "\n")},
		{"url", []byte(s.url + "\n")},
	}
	for _, f := range files {
		if f.data == nil {
			continue
		}
		if err := writeAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return fmt.Errorf("fakedd: %w", err)
		}
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// URL is the API's base URL, e.g. https://127.0.0.1:40123 (no trailing
// slash): what pgofetch's -api-url takes.
func (s *Server) URL() string { return s.url }

// Addr is the API's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// RedirectURL is the base URL of the redirect target.
func (s *Server) RedirectURL() string { return s.redirectURL }

// APIKey and AppKey are the keys the server accepts.
func (s *Server) APIKey() string { return s.opts.APIKey }
func (s *Server) AppKey() string { return s.opts.AppKey }

// CAPEM is the test CA's certificate in PEM (nil in plain-HTTP mode): what
// SSL_CERT_FILE or CURL_CA_BUNDLE should name.
func (s *Server) CAPEM() []byte {
	if s.pki == nil {
		return nil
	}
	return append([]byte(nil), s.pki.caPEM...)
}

// CertPool holds the test CA (nil in plain-HTTP mode).
func (s *Server) CertPool() *x509.CertPool {
	if s.pki == nil {
		return nil
	}
	return s.pki.caPool
}

// Client is an HTTP client that trusts the test CA and does not follow
// redirects (so a test sees the redirect fault's 302 itself).
func (s *Server) Client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = false
	if s.pki != nil {
		tr.TLSClientConfig = clientTLSConfig(s.pki.caPool)
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// SetFault sets the fault in force: a name of FaultNames, optionally
// followed by :N to act on the next N requests only; "none" clears it.
func (s *Server) SetFault(spec string) error {
	f, err := parseFault(spec)
	if err != nil {
		return fmt.Errorf("fakedd: %w", err)
	}
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
	return nil
}

// Fault is the fault in force as NAME, NAME:N (N requests left) or "none".
func (s *Server) Fault() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fault.String()
}

// SetOutage turns the outage mode on or off: while on, every API request is
// answered 503 (faults wait until it ends).
func (s *Server) SetOutage(on bool) {
	s.mu.Lock()
	s.outage = on
	s.mu.Unlock()
}

// SetGeneration changes the profiles served: generation 0 serves them as
// given; each generation n > 0 serves different profiles derived from them
// (ids <id>-g<n>, sample values multiplied by n+1). Setting the same
// generation again serves the same bytes again.
func (s *Server) SetGeneration(n int) {
	if n < 0 {
		n = 0
	}
	s.mu.Lock()
	s.generation = n
	s.mu.Unlock()
}

// AddProfile adds a profile to those served; fields left zero are computed
// from p.Data, which must parse as a profile.
func (s *Server) AddProfile(p Profile) error {
	p.Data = append([]byte(nil), p.Data...)
	p.Tags = append([]string(nil), p.Tags...)
	if err := p.fill(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.added {
		if q.ID == p.ID {
			s.added[i] = &p
			return nil
		}
	}
	s.added = append(s.added, &p)
	return nil
}

// ClearProfiles removes the profiles given to AddProfile (those of
// ProfilesDir stay).
func (s *Server) ClearProfiles() {
	s.mu.Lock()
	s.added = nil
	s.mu.Unlock()
}

// Profiles is what the server serves now (directory and added profiles, in
// the current generation), by id.
func (s *Server) Profiles() ([]Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps, err := s.profilesLocked()
	out := make([]Profile, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out, err
}

// Requests are the requests the API has received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RedirectRequests are the requests the redirect target has received.
func (s *Server) RedirectRequests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.redirected...)
}

// ResetRequests forgets the requests recorded so far (in memory; the log
// files keep them).
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.requests, s.redirected = nil, nil
	s.mu.Unlock()
}

// MaxInFlight is the most API requests the server was answering at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxFlight
}

// enter counts a request in flight and holds it at the gate; the caller
// calls the function it returns when the answer is sent.
func (s *Server) enter() func() {
	s.mu.Lock()
	s.inFlight++
	s.maxFlight = max(s.maxFlight, s.inFlight)
	if s.opts.Gate > 1 && s.inFlight >= s.opts.Gate {
		select {
		case <-s.gateOpen:
		default:
			close(s.gateOpen)
		}
	}
	s.mu.Unlock()
	if s.opts.Gate > 1 {
		select {
		case <-s.gateOpen:
		case <-time.After(10 * time.Second):
		case <-s.closing:
		}
	}
	return func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}
}

// Close stops both listeners, ends drips in progress and closes the logs.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		if s.srv != nil {
			s.srv.Close()
		} else if s.ln != nil {
			s.ln.Close()
		}
		if s.redirSrv != nil {
			s.redirSrv.Close()
		} else if s.redirLn != nil {
			s.redirLn.Close()
		}
		s.mu.Lock()
		if s.logFile != nil {
			s.logFile.Close()
			s.logFile = nil
		}
		if s.redirLog != nil {
			s.redirLog.Close()
			s.redirLog = nil
		}
		s.mu.Unlock()
	})
	return nil
}

// profilesLocked lists the profiles served now. s.mu is held.
func (s *Server) profilesLocked() ([]*Profile, error) {
	var base []*Profile
	var err error
	if s.dir != nil {
		base, err = s.dir.load(s.opts.Logf)
	}
	byID := map[string]bool{}
	for _, p := range base {
		byID[p.ID] = true
	}
	for _, p := range s.added {
		if !byID[p.ID] {
			base = append(base, p)
		}
	}
	if s.generation == 0 {
		return base, err
	}
	out := make([]*Profile, 0, len(base))
	for _, p := range base {
		key := fmt.Sprintf("%d/%s/%p", s.generation, p.ID, p)
		q, ok := s.changed[key]
		if !ok {
			var cerr error
			if q, cerr = p.changed(s.generation); cerr != nil {
				s.opts.Logf("fakedd: changing profile %s: %v", p.ID, cerr)
				continue
			}
			s.changed[key] = q
		}
		out = append(out, q)
	}
	return out, err
}

// Control files, re-read on every request. A file's content is applied
// when it changes (content or mtime, so writing the same fault again
// re-arms it), as if the matching setter had been called; removing the
// file applies its "off" value. A setter called from Go meanwhile wins
// until the file changes again.
const (
	ctrlFault      = "fault"
	ctrlOutage     = "outage"
	ctrlGeneration = "generation"
)

// syncControlLocked applies changed control files; s.mu is held. It
// returns the first control file whose content is invalid: the server then
// fails every request until it is fixed, rather than ignore a typo in a
// test.
func (s *Server) syncControlLocked() error {
	if s.opts.StateDir == "" {
		return nil
	}
	for _, name := range []string{ctrlFault, ctrlOutage, ctrlGeneration} {
		path := filepath.Join(s.opts.StateDir, name)
		var content, key string
		present := false
		if st, err := os.Stat(path); err == nil {
			data, err := os.ReadFile(path)
			if err == nil {
				present = true
				content = strings.TrimSpace(string(data))
				key = st.ModTime().Format(time.RFC3339Nano) + "\x00" + content
			}
		}
		if key == s.ctrlSeen[name] {
			continue
		}
		s.ctrlSeen[name] = key
		delete(s.ctrlErr, name)
		var err error
		switch name {
		case ctrlFault:
			var f fault
			if f, err = parseFault(content); err == nil {
				s.fault = f
			}
		case ctrlOutage:
			s.outage = present && content != "0" && content != "off" && content != "false"
		case ctrlGeneration:
			n := 0
			if present && content != "" {
				n, err = strconv.Atoi(content)
				if err == nil && n < 0 {
					err = errors.New("must be a whole number ≥ 0")
				}
			}
			if err == nil {
				s.generation = n
			}
		}
		if err != nil {
			s.ctrlErr[name] = fmt.Errorf("control file %s: %v", path, err)
			s.opts.Logf("fakedd: %v", s.ctrlErr[name])
		}
	}
	for _, name := range []string{ctrlFault, ctrlOutage, ctrlGeneration} {
		if err := s.ctrlErr[name]; err != nil {
			return err
		}
	}
	return nil
}

// KeyState says whether a request carried a key and whether it was right.
// The key's value itself is never recorded.
type KeyState string

const (
	KeyOK      KeyState = "ok"
	KeyMissing KeyState = "missing"
	KeyWrong   KeyState = "wrong"
)

// Request is one recorded request. It never holds a key: header values,
// URL and body are recorded with every occurrence of either key replaced
// by [REDACTED], and the key headers' values are never recorded at all
// (a wrong key may be someone's real one).
type Request struct {
	Time        time.Time           `json:"time"`
	Server      string              `json:"server"` // "api" or "redirect"
	Method      string              `json:"method"`
	Path        string              `json:"path"`
	Query       string              `json:"query,omitempty"`
	ContentType string              `json:"content_type,omitempty"`
	UserAgent   string              `json:"user_agent,omitempty"`
	APIKey      KeyState            `json:"api_key"`      // the DD-API-KEY header
	AppKey      KeyState            `json:"app_key"`      // the DD-APPLICATION-KEY header
	APIKeySeen  bool                `json:"api_key_seen"` // the API key's value appeared anywhere: a header, the URL, the body
	AppKeySeen  bool                `json:"app_key_seen"` // the same for the application key
	Headers     map[string][]string `json:"headers,omitempty"`
	Body        string              `json:"body,omitempty"`
	Status      int                 `json:"status"` // 0: no HTTP answer (connection reset)
	Fault       string              `json:"fault,omitempty"`
	Error       string              `json:"error,omitempty"` // why the request was refused
}

const redacted = "[REDACTED]"

// secretHeaders never have their values recorded.
var secretHeaders = map[string]bool{
	"Dd-Api-Key": true, "Dd-Application-Key": true,
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true,
}

// maxBody bounds request bodies; larger ones are refused with 413.
const maxBody = 4 << 20

// newRecord reads r's body and describes r without any key value.
func (s *Server) newRecord(r *http.Request, server string) (Request, []byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	rec := Request{
		Time:   time.Now().UTC(),
		Server: server,
		Method: r.Method,
		APIKey: s.keyState(r.Header.Values("DD-API-KEY"), s.apiKey),
		AppKey: s.keyState(r.Header.Values("DD-APPLICATION-KEY"), s.appKey),
	}
	seen := func(key []byte) bool {
		if strings.Contains(r.URL.RequestURI(), string(key)) || strings.Contains(string(body), string(key)) {
			return true
		}
		for _, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, string(key)) {
					return true
				}
			}
		}
		return false
	}
	rec.APIKeySeen, rec.AppKeySeen = seen(s.apiKey), seen(s.appKey)
	rec.Path = s.redact(r.URL.Path)
	rec.Query = s.redact(r.URL.RawQuery)
	rec.ContentType = s.redact(r.Header.Get("Content-Type"))
	rec.UserAgent = s.redact(r.Header.Get("User-Agent"))
	rec.Headers = map[string][]string{}
	for name, vs := range r.Header {
		for _, v := range vs {
			if secretHeaders[name] {
				v = redacted
			}
			rec.Headers[name] = append(rec.Headers[name], s.redact(v))
		}
	}
	if r.Host != "" {
		rec.Headers["Host"] = []string{s.redact(r.Host)}
	}
	const maxLogged = 64 << 10
	if len(body) > maxLogged {
		rec.Body = s.redact(string(body[:maxLogged])) + "…"
	} else {
		rec.Body = s.redact(string(body))
	}
	return rec, body, err
}

func (s *Server) keyState(values []string, want []byte) KeyState {
	switch {
	case len(values) == 0 || values[0] == "":
		return KeyMissing
	case len(values) == 1 && subtle.ConstantTimeCompare([]byte(values[0]), want) == 1:
		return KeyOK
	}
	// Several key headers are refused too: which would the API pick?
	return KeyWrong
}

func (s *Server) redact(v string) string {
	v = strings.ReplaceAll(v, string(s.apiKey), redacted)
	return strings.ReplaceAll(v, string(s.appKey), redacted)
}

// record stores a finished request's record in memory and in its log.
func (s *Server) record(rec Request) {
	line, err := json.Marshal(rec)
	if err != nil {
		s.opts.Logf("fakedd: recording a request: %v", err)
		return
	}
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.logFile
	if rec.Server == "redirect" {
		s.redirected = append(s.redirected, rec)
		f = s.redirLog
	} else {
		s.requests = append(s.requests, rec)
	}
	if f != nil {
		if _, err := f.Write(line); err != nil {
			s.opts.Logf("fakedd: writing the request log: %v", err)
		}
	}
}

// logfWriter adapts Logf for http.Server's ErrorLog (TLS handshake
// failures of clients that do not trust the test CA land there).
type logfWriter func(string, ...any)

func (f logfWriter) Write(b []byte) (int, error) {
	f("fakedd: %s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
