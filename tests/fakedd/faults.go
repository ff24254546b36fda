package fakedd

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Fault names. A fault is set as NAME or NAME:N; with N it acts on the next
// N requests only and then clears itself (the server answers normally
// again). Without N, 429 and 500 act once and the others until cleared.
const (
	FaultNone      = "none"     // clear the fault
	Fault401       = "401"      // 401 {"errors":["Unauthorized"]}
	Fault403       = "403"      // 403 {"errors":["Forbidden"]}
	Fault404       = "404"      // 404 {"errors":["Not found"]}
	Fault429       = "429"      // 429 with X-RateLimit-* headers, X-RateLimit-Reset: 1
	Fault500       = "500"      // 500 {"errors":["Internal Server Error"]}
	Fault503       = "503"      // 503 {"errors":["Service Unavailable"]}
	FaultReset     = "reset"    // the TCP connection is reset (RST) before any answer
	FaultTruncate  = "truncate" // 200, Content-Length of the whole answer, half of it sent, then the connection closes
	FaultDrip      = "drip"     // 200, the answer sent one byte per DripInterval (1 s)
	FaultBadZip    = "badzip"   // 200, a body that starts like a ZIP but is not one (list: invalid JSON)
	FaultEmptyZip  = "emptyzip" // 200, a valid ZIP with no entries (list: {"data":[]})
	FaultNotPprof  = "notpprof" // 200, a ZIP whose first entry (download: cpu.pprof) is not a profile
	FaultRedirect  = "redirect" // 302 to the same path on the redirect target (another host name and port)
	FaultTrailing  = "trailing" // 200, a list answer followed by a second JSON value (ZIP answers: not affected)
	FaultBadUTF8   = "badutf8"  // 200, a list answer whose first attributes.id ends in byte 0xff (ZIP answers: not affected)
	faultCountOnce = 1
)

// faultDefaults is every fault name and how many requests it acts on when
// no count is given (0: until cleared).
var faultDefaults = map[string]int{
	Fault401: 0, Fault403: 0, Fault404: 0,
	Fault429: faultCountOnce, Fault500: faultCountOnce, Fault503: 0,
	FaultReset: 0, FaultTruncate: 0, FaultDrip: 0,
	FaultBadZip: 0, FaultEmptyZip: 0, FaultNotPprof: 0, FaultRedirect: 0,
	FaultTrailing: 0, FaultBadUTF8: 0,
}

// FaultNames lists the fault names SetFault accepts (besides "none").
func FaultNames() []string {
	var names []string
	for n := range faultDefaults {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// fault is the fault in force: its name and how many more requests it acts
// on (0: no limit).
type fault struct {
	name      string
	remaining int
}

func (f fault) String() string {
	if f.name == "" {
		return FaultNone
	}
	if f.remaining > 0 {
		return fmt.Sprintf("%s:%d", f.name, f.remaining)
	}
	return f.name
}

// parseFault reads NAME or NAME:N. "", "none" and "off" clear the fault.
func parseFault(spec string) (fault, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == FaultNone || spec == "off" {
		return fault{}, nil
	}
	name, count, hasCount := strings.Cut(spec, ":")
	def, ok := faultDefaults[name]
	if !ok {
		return fault{}, fmt.Errorf("unknown fault %q (known: none, %s)", name, strings.Join(FaultNames(), ", "))
	}
	f := fault{name: name, remaining: def}
	if hasCount {
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 {
			return fault{}, fmt.Errorf("fault %q: the count after ':' must be a whole number ≥ 1", spec)
		}
		f.remaining = n
	}
	return f, nil
}

// isBodyFault tells the faults that alter a successful answer (and so act
// only on requests that pass validation) from those that replace the
// answer whatever the request (as a proxy, a load balancer or an auth layer
// in front of the API would).
func isBodyFault(name string) bool {
	switch name {
	case FaultTruncate, FaultDrip, FaultBadZip, FaultEmptyZip, FaultNotPprof, FaultTrailing, FaultBadUTF8:
		return true
	}
	return false
}
