package fakedd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Sites are the Datadog sites known to Datadog's Go API client. The server
// certificate is valid for app.<site> of each, so that a test can point one
// of those names at the fake server through /etc/hosts and run a client
// (Datadog's own datadog-pgo among them) that always builds the URL itself.
var Sites = []string{
	"datadoghq.com",
	"us3.datadoghq.com",
	"us5.datadoghq.com",
	"ap1.datadoghq.com",
	"ap2.datadoghq.com",
	"uk1.datadoghq.com",
	"datadoghq.eu",
	"ddog-gov.com",
	"us2.ddog-gov.com",
}

// testPKI is a CA made for one server run and the server certificate it
// signed. Nothing is reused between runs, so no test trusts a stale CA.
type testPKI struct {
	caPEM   []byte
	caPool  *x509.CertPool
	srvCert tls.Certificate
}

// newTestPKI makes an ECDSA P-256 CA and a server certificate for loopback
// (127.0.0.1, ::1, localhost), app.<site> for every known site, and extra
// names (the redirect target's host name, when it is not one of those).
func newTestPKI(extraNames []string) (*testPKI, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "fakedd test CA", Organization: []string{"pgofetch tests"}},
		NotBefore:             now.Add(-time.Hour), // some slack for clock skew
		NotAfter:              now.Add(30 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	names := []string{"localhost"}
	for _, site := range Sites {
		names = append(names, "app."+site)
	}
	for _, n := range extraNames {
		if n != "" && net.ParseIP(n) == nil && !contains(names, n) {
			names = append(names, n)
		}
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	for _, n := range extraNames {
		if ip := net.ParseIP(n); ip != nil && !ip.IsLoopback() {
			ips = append(ips, ip)
		}
	}

	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "fakedd", Organization: []string{"pgofetch tests"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  ips,
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &testPKI{
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		caPool: pool,
		srvCert: tls.Certificate{
			Certificate: [][]byte{srvDER, caDER},
			PrivateKey:  srvKey,
		},
	}, nil
}

func (p *testPKI) serverConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.srvCert},
		MinVersion:   tls.VersionTLS12,
		// HTTP/1.1 only: the connection-level faults (reset, truncated
		// body) hijack the connection, which HTTP/2 does not allow.
		NextProtos: []string{"http/1.1"},
	}
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(fmt.Sprintf("fakedd: crypto/rand: %v", err))
	}
	return n.Add(n, big.NewInt(1))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func tlsListener(ln net.Listener, p *testPKI) net.Listener {
	return tls.NewListener(ln, p.serverConfig())
}

func clientTLSConfig(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
