// Package broker runs the fleet's broker: an embedded nats-server with
// JetStream that trusts the fleet's authority only. It is its own package
// (and unit-fleet-server its own program) because nats-server weighs
// 10 MB that no node's agent needs.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/unit-os/unit/fleet"
	"github.com/unit-os/unit/fleet/authority"
)

// Apply sets o up with the authority's trust: decentralised JWT/nkey
// auth (the operator, a memory resolver with both accounts, the system
// account) and TLS required of every client, which prove who they are
// with their JWT, not a certificate.
func Apply(t *authority.Trust, o *server.Options) error {
	res := &server.MemAccResolver{}
	for pub, tok := range t.Accounts {
		if err := res.Store(pub, tok); err != nil {
			return fmt.Errorf("account %s: %w", pub, err)
		}
	}
	o.TrustedOperators = []*jwt.OperatorClaims{t.Operator}
	o.AccountResolver = res
	o.SystemAccount = t.SystemAccount
	o.JetStream = true
	o.TLSConfig, o.TLS, o.TLSVerify, o.AllowNonTLS = t.TLS, true, false, false
	return nil
}

// Serve runs the broker on host:port with its authority and JetStream
// store in store until ctx ends: the fleet's buckets are made, and the
// enrolment service trades provisioning tokens for node credentials.
// ready, if set, is called with the client URL once it serves.
func Serve(ctx context.Context, log *slog.Logger, host string, port int, store string, names []string, ready func(url string)) error {
	a, err := authority.Open(store)
	if err != nil {
		return err
	}
	a.Log = log
	trust, err := a.Trust(names)
	if err != nil {
		return err
	}
	o := &server.Options{Host: host, Port: port, StoreDir: filepath.Join(store, "jetstream"), NoSigs: true, ServerName: "unit-fleet"}
	if err := Apply(trust, o); err != nil {
		return err
	}
	s, err := server.NewServer(o)
	if err != nil {
		return err
	}
	go s.Start()
	defer func() {
		s.Shutdown()
		s.WaitForShutdown()
	}()
	if !s.ReadyForConnections(30 * time.Second) {
		return errors.New("nats-server did not start")
	}
	url := s.ClientURL()
	admin, err := a.AdminCreds()
	if err != nil {
		return err
	}
	nc, err := nats.Connect(url, append(fleet.OperatorOptions(admin, a.CAPath()), nats.Name("unit-fleet-server"))...)
	if err != nil {
		return fmt.Errorf("connect as admin: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if err := fleet.EnsureBuckets(ctx, js); err != nil {
		return err
	}
	sopts, err := a.ServiceOptions()
	if err != nil {
		return err
	}
	enc, err := nats.Connect(url, sopts...)
	if err != nil {
		return fmt.Errorf("connect the enrolment service: %w", err)
	}
	defer enc.Close()
	log.Info("serving", "url", url, "store", store, "admin creds", admin, "ca", a.CAPath(),
		"tokens", "unit fleet token --group G")
	if ready != nil {
		ready(url)
	}
	return a.ServeEnroll(ctx, enc)
}
