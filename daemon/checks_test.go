package daemon

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unit-os/unit/config"
)

// TestCheckKeepsTheLastRealAnswer: a service that is up and answers the
// wrong body fails its check with that answer ("expected body ~ …, got
// …"), not with the error of a try cut short by the end of the caller's
// time (an update's trial): neither when that time ends between tries
// nor when it ends during one.
func TestCheckKeepsTheLastRealAnswer(t *testing.T) {
	var (
		requests atomic.Int32
		onSecond atomic.Pointer[context.CancelFunc]
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 2 {
			if cancel := onSecond.Load(); cancel != nil {
				// The caller's time ends while this try waits for its answer.
				(*cancel)()
				<-r.Context().Done()
				return
			}
		}
		io.WriteString(w, "welcome to nginx")
	}))
	defer srv.Close()
	d := &Daemon{log: slog.New(slog.DiscardHandler)}
	check := &config.Check{Meta: config.Meta{Name: "web"}, HTTP: srv.URL + "/", Body: "hello from unit",
		Within: config.Duration{Duration: time.Minute}}
	d.checks.Store(&map[string]*config.Check{"web": check})

	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		// Tries at 0 s and 1 s; the deadline passes in the wait after.
		{"deadline between tries", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 1500*time.Millisecond)
		}},
		{"cancelled during a try", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			onSecond.Store(&cancel)
			return ctx, cancel
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requests.Store(0)
			defer onSecond.Store(nil)
			ctx, cancel := tc.ctx()
			defer cancel()
			res, err := d.runChecks(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 1 || res[0].OK {
				t.Fatalf("results %+v, want one failed check", res)
			}
			if want := `expected body ~ "hello from unit", got`; !strings.Contains(res[0].Detail, want) {
				t.Errorf("detail %q (after %d tries), want the service's answer: %q", res[0].Detail, res[0].Tries, want)
			}
			if !strings.Contains(res[0].Detail, "welcome to nginx") {
				t.Errorf("detail %q does not show the body the service answered", res[0].Detail)
			}
		})
	}
}
