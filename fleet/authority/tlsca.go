package authority

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/unit-os/unit/fleet"
)

// The fleet's own TLS: a CA the authority keeps (ECDSA P-256, ten
// years), a server certificate it signs for the broker's names at each
// start and renews before it ends. Nodes trust this CA only (it comes
// in their token), not the system's roots: no public CA can vouch for
// a fleet's broker.

const (
	caCertFile = "ca.pem"
	caKeyFile  = "ca.key"
	caLife     = 10 * 365 * 24 * time.Hour
	// A server certificate lives 90 days and is made again when less
	// than 30 are left, so a broker that runs for years never presents
	// an expired one.
	serverCertLife  = 90 * 24 * time.Hour
	serverCertRenew = 30 * 24 * time.Hour
)

// tlsCA is the fleet's CA.
type tlsCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// openCA loads dir's CA, making it on first use.
func openCA(dir string) (*tlsCA, error) {
	keyPath, certPath := filepath.Join(dir, caKeyFile), filepath.Join(dir, caCertFile)
	keyPEM, err := fleet.ReadSecret(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, err
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
		if err := fleet.CreateSecret(keyPath, keyPEM); err != nil {
			return nil, fmt.Errorf("CA key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	blk, _ := pem.Decode(keyPEM)
	if blk == nil || blk.Type != "EC PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM EC private key", keyPath)
	}
	key, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	certPEM, err := fleet.ReadPublic(certPath)
	if errors.Is(err, os.ErrNotExist) {
		// A key without its certificate (a first start cut short):
		// the certificate is made for the key that is there.
		if certPEM, err = selfSign(key); err != nil {
			return nil, err
		}
		if err := fleet.CreateSecret(certPath, certPEM); err != nil {
			return nil, fmt.Errorf("CA certificate: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	cert, err := fleet.ParseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certPath, err)
	}
	if !cert.IsCA || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s is not a CA certificate of %s", certPath, keyPath)
	}
	return &tlsCA{cert: cert, key: key, pem: certPEM}, nil
}

// selfSign makes the CA certificate of key.
func selfSign(key *ecdsa.PrivateKey) ([]byte, error) {
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "unit fleet CA", Organization: []string{"unit"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLife),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}

// serverNames splits names into DNS names and IP addresses; loopback's
// are always in (the authority's own connection and local tools).
func serverNames(names []string) (dns []string, ips []net.IP, err error) {
	seen := map[string]bool{}
	for _, n := range append([]string{"localhost", "127.0.0.1", "::1"}, names...) {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		if ip := net.ParseIP(n); ip != nil {
			ips = append(ips, ip)
			continue
		}
		if len(n) > 253 || strings.ContainsAny(n, " /:@*\t\n") {
			return nil, nil, fmt.Errorf("server name %q is neither a host name nor an IP address", n)
		}
		dns = append(dns, n)
	}
	return dns, ips, nil
}

// issueServer signs a fresh server key for names.
func (c *tlsCA) issueServer(dns []string, ips []net.IP, now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(serverCertLife)
	if notAfter.After(c.cert.NotAfter) {
		notAfter = c.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "unit fleet broker"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, c.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// serverCert hands the broker its certificate, made again when it is
// near its end.
type serverCert struct {
	ca  *tlsCA
	dns []string
	ips []net.IP

	mu  sync.Mutex
	cur *tls.Certificate
}

func (s *serverCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.cur == nil || now.Add(serverCertRenew).After(s.cur.Leaf.NotAfter) {
		c, err := s.ca.issueServer(s.dns, s.ips, now)
		if err != nil {
			return nil, err
		}
		s.cur = c
	}
	return s.cur, nil
}

// serverTLS is the broker's TLS configuration for names.
func (c *tlsCA) serverTLS(names []string) (*tls.Config, error) {
	dns, ips, err := serverNames(names)
	if err != nil {
		return nil, err
	}
	sc := &serverCert{ca: c, dns: dns, ips: ips}
	if _, err := sc.get(nil); err != nil { // fail at configuration, not at a client's hello
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: sc.get}, nil
}
