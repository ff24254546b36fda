package fakedd

import (
	"archive/zip"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// The API's paths.
const (
	PathGoPGO    = "/api/unstable/profiles/gopgo"
	PathList     = "/api/unstable/profiles/list"
	pathDLPrefix = "/api/ui/profiling/profiles/"
	pathDLSuffix = "/download"
)

// PathDownload is the older path's download URL path and query for a
// profile id and the event id the list endpoint gave for it.
func PathDownload(id, eventID string) string {
	return pathDLPrefix + url.PathEscape(id) + pathDLSuffix + "?eventId=" + url.QueryEscape(eventID)
}

// TimeLayout is the only time format the fake accepts in filter.from and
// filter.to: UTC, whole seconds (datadog-pgo rounds to the second and
// formats with ".999999999Z", which then prints no fraction).
const TimeLayout = "2006-01-02T15:04:05Z"

var timeRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)

// SortField is the only sort field the fake knows.
const SortField = "@metrics.core_cpu_cores"

// answer is a response before it is sent, so that body faults can alter it.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	kind    string     // "zip", "json" or "" (an error answer)
	entries []zipEntry // the ZIP's entries, when kind is "zip"
	err     string     // for the request log: why the request was refused
}

type zipEntry struct {
	name string
	data []byte
	t    time.Time
}

// errorAnswer is Datadog's error shape: {"errors":["..."]}.
func errorAnswer(status int, msg string) answer {
	body, _ := json.Marshal(map[string][]string{"errors": {msg}})
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return answer{status: status, header: h, body: body, err: msg}
}

func jsonAnswer(v any) answer {
	body, err := json.Marshal(v)
	if err != nil {
		return errorAnswer(http.StatusInternalServerError, "fakedd: "+err.Error())
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return answer{status: http.StatusOK, header: h, body: body, kind: "json"}
}

func (s *Server) zipAnswer(entries []zipEntry) answer {
	body, err := buildZip(entries, s.opts.ZipMethod)
	if err != nil {
		return errorAnswer(http.StatusInternalServerError, "fakedd: "+err.Error())
	}
	h := http.Header{}
	h.Set("Content-Type", "application/zip")
	return answer{status: http.StatusOK, header: h, body: body, kind: "zip", entries: entries}
}

func buildZip(entries []zipEntry, method string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, e := range entries {
		m := zip.Deflate
		if method == ZipStore || (method == ZipMixed && i%2 == 1) {
			m = zip.Store
		}
		t := e.t
		if t.IsZero() {
			t = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: m, Modified: t})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// serveAPI is the API listener's handler: outage, then the faults that
// replace any answer, then validation and the real answer, then the faults
// that alter a successful answer.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	rec, body, readErr := s.newRecord(r, "api")
	defer s.enter()()
	if s.opts.Latency > 0 {
		select {
		case <-time.After(s.opts.Latency):
		case <-s.closing:
		}
	}

	s.mu.Lock()
	ctrlErr := s.syncControlLocked()
	outage := s.outage
	s.mu.Unlock()

	switch {
	case ctrlErr != nil:
		s.send(w, &rec, errorAnswer(http.StatusInternalServerError, "fakedd: "+ctrlErr.Error()))
		return
	case outage:
		rec.Fault = "outage"
		s.send(w, &rec, errorAnswer(http.StatusServiceUnavailable, "Service Unavailable"))
		return
	}
	if f := s.takeFault(false, ""); f != "" {
		rec.Fault = f
		s.injectStatusFault(w, r, &rec, f)
		return
	}

	var a answer
	if readErr != nil {
		a = errorAnswer(http.StatusBadRequest, "reading the request body: "+readErr.Error())
	} else {
		a = s.handle(r, body)
	}
	if a.status == http.StatusOK {
		if f := s.takeFault(true, a.kind); f != "" {
			rec.Fault = f
			s.injectBodyFault(w, r, &rec, f, a)
			return
		}
	}
	s.send(w, &rec, a)
}

// takeFault returns the fault to inject into this request, if the one in
// force is of the wanted sort (body or not) and applies to an answer of
// this kind, and counts the request against it.
func (s *Server) takeFault(body bool, kind string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fault
	if f.name == "" || isBodyFault(f.name) != body {
		return ""
	}
	if f.name == FaultNotPprof && kind != "zip" {
		return "" // a JSON answer has no profile to spoil
	}
	if (f.name == FaultTrailing || f.name == FaultBadUTF8) && kind != "json" {
		return "" // they spoil JSON only
	}
	if f.remaining > 0 {
		s.fault.remaining--
		if s.fault.remaining == 0 {
			s.fault = fault{}
		}
	}
	return f.name
}

// send records the request and writes the answer.
func (s *Server) send(w http.ResponseWriter, rec *Request, a answer) {
	rec.Status = a.status
	if a.status >= 400 {
		rec.Error = a.err
	}
	s.record(*rec)
	for k, vs := range a.header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(a.status)
	w.Write(a.body)
}

func (s *Server) injectStatusFault(w http.ResponseWriter, r *http.Request, rec *Request, f string) {
	switch f {
	case Fault401:
		s.send(w, rec, errorAnswer(http.StatusUnauthorized, "Unauthorized"))
	case Fault403:
		s.send(w, rec, errorAnswer(http.StatusForbidden, "Forbidden"))
	case Fault404:
		s.send(w, rec, errorAnswer(http.StatusNotFound, "Not found"))
	case Fault429:
		a := errorAnswer(http.StatusTooManyRequests, "Too many requests")
		// Datadog's rate-limit headers; Reset is seconds until the
		// window ends, short so that a retrying client's test is fast.
		a.header.Set("X-RateLimit-Limit", "100")
		a.header.Set("X-RateLimit-Period", "60")
		a.header.Set("X-RateLimit-Remaining", "0")
		a.header.Set("X-RateLimit-Reset", "1")
		a.header.Set("X-RateLimit-Name", "profiling_pgo")
		s.send(w, rec, a)
	case Fault500:
		s.send(w, rec, errorAnswer(http.StatusInternalServerError, "Internal Server Error"))
	case Fault503:
		s.send(w, rec, errorAnswer(http.StatusServiceUnavailable, "Service Unavailable"))
	case FaultRedirect:
		a := answer{status: http.StatusFound, header: http.Header{}}
		a.header.Set("Location", s.redirectURL+r.URL.RequestURI())
		s.send(w, rec, a)
	case FaultReset:
		s.record(*rec) // Status 0: no answer
		conn := hijack(w)
		if conn == nil {
			return
		}
		// Linger 0 makes close send RST instead of FIN, so the client
		// sees "connection reset by peer", not a clean end of stream.
		if tc, ok := conn.(*tls.Conn); ok {
			conn = tc.NetConn()
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			tcp.SetLinger(0)
		}
		conn.Close()
	default:
		s.send(w, rec, errorAnswer(http.StatusInternalServerError, "fakedd: fault "+f+" has no status injection"))
	}
}

func (s *Server) injectBodyFault(w http.ResponseWriter, r *http.Request, rec *Request, f string, a answer) {
	switch f {
	case FaultBadZip:
		if a.kind == "json" {
			a.body = []byte(`{"data":[{"id":"`) // cut short: not JSON
		} else {
			// ZIP's local-header magic, then nothing a ZIP reader can
			// use: no central directory, no end record.
			a.body = append([]byte("PK\x03\x04"), bytes.Repeat([]byte("this is not a zip archive\n"), 8)...)
		}
		s.send(w, rec, a)
	case FaultEmptyZip:
		if a.kind == "json" {
			s.send(w, rec, jsonAnswer(listResponse{Data: []listItem{}}))
		} else {
			s.send(w, rec, s.zipAnswer(nil))
		}
	case FaultNotPprof:
		entries := append([]zipEntry(nil), a.entries...)
		bad := []byte("this is not a pprof profile\n")
		if len(entries) == 0 {
			entries = []zipEntry{{name: "fakedd-notpprof", data: bad}}
		} else {
			entries[0] = zipEntry{name: entries[0].name, data: bad, t: entries[0].t}
		}
		s.send(w, rec, s.zipAnswer(entries))
	case FaultTrailing:
		// Two answers run together, as a broken proxy might send them.
		a.body = append(append([]byte(nil), a.body...), "\n{\"data\":[]}"...)
		s.send(w, rec, a)
	case FaultBadUTF8:
		// Go's encoding/json writes only valid UTF-8, so the byte goes
		// in afterwards: at the end of the first profile id.
		at := []byte(`"attributes":{"id":"`)
		if i := bytes.Index(a.body, at); i >= 0 {
			j := i + len(at) + bytes.IndexByte(a.body[i+len(at):], '"')
			a.body = append(append(append([]byte(nil), a.body[:j]...), 0xff), a.body[j:]...)
		}
		s.send(w, rec, a)
	case FaultTruncate:
		rec.Status = a.status
		s.record(*rec)
		conn := hijack(w)
		if conn == nil {
			return
		}
		defer conn.Close()
		var hdr bytes.Buffer
		fmt.Fprintf(&hdr, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
			a.header.Get("Content-Type"), len(a.body))
		conn.Write(hdr.Bytes())
		conn.Write(a.body[:len(a.body)/2])
	case FaultDrip:
		rec.Status = a.status
		s.record(*rec)
		for k, vs := range a.header {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
		w.WriteHeader(a.status)
		flusher, _ := w.(http.Flusher)
		if flusher != nil {
			flusher.Flush()
		}
		t := time.NewTicker(s.opts.DripInterval)
		defer t.Stop()
		for i := range a.body {
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			case <-s.closing:
				return
			}
			if _, err := w.Write(a.body[i : i+1]); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}

func hijack(w http.ResponseWriter) net.Conn {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return nil
	}
	return conn
}

// handle validates a request and builds its answer, in the order a real
// API stack checks: route, method, keys, headers, body.
func (s *Server) handle(r *http.Request, body []byte) answer {
	var route string
	var id string
	switch {
	case r.URL.Path == PathGoPGO:
		route = "gopgo"
	case r.URL.Path == PathList:
		route = "list"
	case strings.HasPrefix(r.URL.Path, pathDLPrefix) && strings.HasSuffix(r.URL.Path, pathDLSuffix):
		id = strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, pathDLPrefix), pathDLSuffix)
		if id == "" || strings.Contains(id, "/") {
			return errorAnswer(http.StatusNotFound, "Not found")
		}
		route = "download"
	default:
		return errorAnswer(http.StatusNotFound, "Not found")
	}
	wantMethod := http.MethodPost
	if route == "download" {
		wantMethod = http.MethodGet
	}
	if r.Method != wantMethod {
		a := errorAnswer(http.StatusMethodNotAllowed, "Method Not Allowed")
		a.header.Set("Allow", wantMethod)
		return a
	}

	// Datadog answers 403 Forbidden, {"errors":["Forbidden"]}, to a
	// missing or invalid API key and to a missing or invalid application
	// key alike (401 is not what its API gives for a bad key); the fake
	// does the same. The log says which key it was, the answer does not.
	apiState := s.keyState(r.Header.Values("DD-API-KEY"), s.apiKey)
	appState := s.keyState(r.Header.Values("DD-APPLICATION-KEY"), s.appKey)
	if apiState != KeyOK || appState != KeyOK {
		a := errorAnswer(http.StatusForbidden, "Forbidden")
		a.err = fmt.Sprintf("Forbidden (DD-API-KEY %s, DD-APPLICATION-KEY %s)", apiState, appState)
		return a
	}
	if strings.TrimSpace(r.Header.Get("User-Agent")) == "" {
		return errorAnswer(http.StatusBadRequest, "missing User-Agent header")
	}
	if r.Method == http.MethodPost {
		ct := r.Header.Get("Content-Type")
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errorAnswer(http.StatusUnsupportedMediaType,
				fmt.Sprintf("Content-Type must be application/json, got %q", ct))
		}
		if len(body) > maxBody {
			return errorAnswer(http.StatusRequestEntityTooLarge, "request body too large")
		}
	}

	s.mu.Lock()
	profiles, err := s.profilesLocked()
	s.mu.Unlock()
	if err != nil {
		return errorAnswer(http.StatusInternalServerError, "fakedd: reading profiles: "+err.Error())
	}

	switch route {
	case "gopgo":
		var req struct {
			Queries *[]json.RawMessage `json:"queries"`
		}
		if err := decodeStrict(body, &req); err != nil {
			return errorAnswer(http.StatusBadRequest, "invalid body: "+err.Error())
		}
		if req.Queries == nil {
			return errorAnswer(http.StatusBadRequest, "invalid body: missing field queries")
		}
		if len(*req.Queries) == 0 {
			return errorAnswer(http.StatusBadRequest, "invalid body: queries is empty")
		}
		var entries []zipEntry
		seen := map[string]bool{}
		for i, raw := range *req.Queries {
			q, err := parseQuery(raw)
			if err != nil {
				return errorAnswer(http.StatusBadRequest, fmt.Sprintf("invalid body: queries[%d]: %v", i, err))
			}
			// Profiles two queries both select are sent once: a ZIP
			// with two entries of one name is no use to anyone.
			for _, p := range q.selectFrom(profiles) {
				if !seen[p.ID] {
					seen[p.ID] = true
					entries = append(entries, zipEntry{name: p.ID, data: p.Data, t: p.Timestamp})
				}
			}
		}
		return s.zipAnswer(entries)

	case "list":
		q, err := parseQuery(body)
		if err != nil {
			return errorAnswer(http.StatusBadRequest, "invalid body: "+err.Error())
		}
		resp := listResponse{Data: []listItem{}}
		for _, p := range q.selectFrom(profiles) {
			service := p.Service
			if service == "" {
				service = queryService(q.query)
			}
			item := listItem{ID: p.EventID}
			item.Attributes.ID = p.ID
			item.Attributes.Service = service
			item.Attributes.DurationNanos = p.DurationNanos
			ts := p.Timestamp
			if ts.IsZero() {
				ts = time.Now()
			}
			item.Attributes.Timestamp = ts.UTC().Round(time.Second).Format(TimeLayout)
			item.Attributes.Custom.Metrics.CoreCPUCores = p.CPUCores
			resp.Data = append(resp.Data, item)
		}
		return jsonAnswer(resp)

	default: // download
		ev, ok := r.URL.Query()["eventId"]
		if !ok || len(ev) != 1 || ev[0] == "" {
			return errorAnswer(http.StatusBadRequest, "missing eventId query parameter")
		}
		for _, p := range profiles {
			if p.ID == id {
				if p.EventID != ev[0] {
					return errorAnswer(http.StatusNotFound, "Not found")
				}
				return s.zipAnswer([]zipEntry{
					{name: "cpu.pprof", data: p.Data, t: p.Timestamp},
					{name: "delta-heap.pprof", data: s.heap, t: p.Timestamp},
				})
			}
		}
		return errorAnswer(http.StatusNotFound, "Not found")
	}
}

type listItem struct {
	ID         string `json:"id"`
	Attributes struct {
		ID            string `json:"id"`
		Service       string `json:"service"`
		DurationNanos int64  `json:"duration_nanos"`
		Timestamp     string `json:"timestamp"`
		Custom        struct {
			Metrics struct {
				CoreCPUCores float64 `json:"core_cpu_cores"`
			} `json:"metrics"`
		} `json:"custom"`
	} `json:"attributes"`
}

type listResponse struct {
	Data []listItem `json:"data"`
}

// decodeStrict decodes exactly one JSON value with no unknown fields and
// nothing after it.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// searchQuery is a validated query object.
type searchQuery struct {
	from, to time.Time
	query    string
	desc     bool
	limit    int
}

// parseQuery validates one query object: every field present, nothing
// else, times in TimeLayout with from < to, a Go runtime term, a known sort,
// a limit of at least 1.
func parseQuery(raw []byte) (searchQuery, error) {
	var q struct {
		Filter *struct {
			From  *string `json:"from"`
			To    *string `json:"to"`
			Query *string `json:"query"`
		} `json:"filter"`
		Sort *struct {
			Order *string `json:"order"`
			Field *string `json:"field"`
		} `json:"sort"`
		Limit *int `json:"limit"`
	}
	if err := decodeStrict(raw, &q); err != nil {
		return searchQuery{}, err
	}
	switch {
	case q.Filter == nil:
		return searchQuery{}, errors.New("missing field filter")
	case q.Filter.From == nil:
		return searchQuery{}, errors.New("missing field filter.from")
	case q.Filter.To == nil:
		return searchQuery{}, errors.New("missing field filter.to")
	case q.Filter.Query == nil:
		return searchQuery{}, errors.New("missing field filter.query")
	case q.Sort == nil:
		return searchQuery{}, errors.New("missing field sort")
	case q.Sort.Order == nil:
		return searchQuery{}, errors.New("missing field sort.order")
	case q.Sort.Field == nil:
		return searchQuery{}, errors.New("missing field sort.field")
	case q.Limit == nil:
		return searchQuery{}, errors.New("missing field limit")
	}
	var out searchQuery
	var err error
	if out.from, err = parseTime(*q.Filter.From); err != nil {
		return searchQuery{}, fmt.Errorf("filter.from: %v", err)
	}
	if out.to, err = parseTime(*q.Filter.To); err != nil {
		return searchQuery{}, fmt.Errorf("filter.to: %v", err)
	}
	if !out.from.Before(out.to) {
		return searchQuery{}, fmt.Errorf("filter.from %s is not before filter.to %s", *q.Filter.From, *q.Filter.To)
	}
	out.query = *q.Filter.Query
	goTerm := false
	for _, term := range strings.Fields(out.query) {
		if term == "runtime:go" || term == "language:go" {
			goTerm = true
		}
	}
	if !goTerm {
		return searchQuery{}, fmt.Errorf("filter.query %q names neither runtime:go nor language:go", out.query)
	}
	switch *q.Sort.Order {
	case "desc":
		out.desc = true
	case "asc":
	default:
		return searchQuery{}, fmt.Errorf("sort.order %q is neither desc nor asc", *q.Sort.Order)
	}
	if *q.Sort.Field != SortField {
		return searchQuery{}, fmt.Errorf("sort.field %q: only %s is supported", *q.Sort.Field, SortField)
	}
	if *q.Limit < 1 {
		return searchQuery{}, fmt.Errorf("limit %d is less than 1", *q.Limit)
	}
	out.limit = *q.Limit
	return out, nil
}

func parseTime(s string) (time.Time, error) {
	if !timeRE.MatchString(s) {
		return time.Time{}, fmt.Errorf("%q is not in the format %s (UTC, whole seconds)", s, TimeLayout)
	}
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %v", s, err)
	}
	return t, nil
}

// selectFrom returns the profiles q matches, sorted by CPU cores (ties by
// id), at most q.limit. The time window is validated but not applied:
// test profiles carry whatever time they were recorded at.
func (q searchQuery) selectFrom(profiles []*Profile) []*Profile {
	var out []*Profile
	for _, p := range profiles {
		if p.matches(q.query) {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.CPUCores != b.CPUCores {
			if q.desc {
				return a.CPUCores > b.CPUCores
			}
			return a.CPUCores < b.CPUCores
		}
		return a.ID < b.ID
	})
	if len(out) > q.limit {
		out = out[:q.limit]
	}
	return out
}

// serveRedirectTarget is the other host the redirect fault sends clients
// to. It records everything it receives (never a key's value: see
// Request) and refuses everything: it is not the API, and a client that
// got this far has already sent whatever it sent.
func (s *Server) serveRedirectTarget(w http.ResponseWriter, r *http.Request) {
	rec, _, _ := s.newRecord(r, "redirect")
	s.send(w, &rec, errorAnswer(http.StatusForbidden, "Forbidden"))
}

// syntheticHeapProfile is the delta-heap.pprof of every download ZIP: a
// valid heap profile, so a client that picks the wrong entry gets a
// profile without CPU samples rather than garbage.
func syntheticHeapProfile() []byte {
	f := &profile.Function{ID: 1, Name: "main.alloc", SystemName: "main.alloc", Filename: "main.go", StartLine: 3}
	l := &profile.Location{ID: 1, Address: 0x401000, Line: []profile.Line{{Function: f, Line: 5}}}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{
			{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"},
			{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"},
		},
		PeriodType:    &profile.ValueType{Type: "space", Unit: "bytes"},
		Period:        512 * 1024,
		DurationNanos: int64(60 * time.Second),
		TimeNanos:     time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(),
		Sample:        []*profile.Sample{{Location: []*profile.Location{l}, Value: []int64{10, 10240, 2, 2048}}},
		Location:      []*profile.Location{l},
		Function:      []*profile.Function{f},
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		panic(fmt.Sprintf("fakedd: writing the heap profile: %v", err))
	}
	return buf.Bytes()
}
