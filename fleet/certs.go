package fleet

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
)

// The fleet's CA certificate as both sides read it: the authority its
// own, a node the one its token brought.

// ParseCertPEM reads the one certificate in b.
func ParseCertPEM(b []byte) (*x509.Certificate, error) {
	blk, rest := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("not one PEM certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// CAPool is a pool holding the CA certificates in pemBytes.
func CAPool(pemBytes []byte) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pemBytes) {
		return nil, errors.New("no PEM certificate in the CA")
	}
	return p, nil
}
