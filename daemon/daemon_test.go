package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/unit-os/unit/api"
	"github.com/unit-os/unit/cm"
	"github.com/unit-os/unit/event"
	"github.com/unit-os/unit/supervise"
)

// The console prints every event emitted before shutdown, even those still
// queued when the loops are told to end (the last services' "stopped").
func TestPrintEventsDrainsAtShutdown(t *testing.T) {
	for range 50 {
		bus := event.NewBus()
		ch, unsubscribe := bus.Subscribe(16)
		for _, name := range []string{"web", "db", "syslogd"} {
			bus.Emit(event.Event{Resource: "service:" + name, State: "stopped"})
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out bytes.Buffer
		printEvents(ctx, ch, &out)
		unsubscribe()
		want := "unit: service:web stopped\nunit: service:db stopped\nunit: service:syslogd stopped\n"
		if out.String() != want {
			t.Fatalf("console:\n%s\nwant:\n%s", out.String(), want)
		}
	}
}

// TestWireJSON pins the control socket's status and apply replies: the
// api types the daemon converts to give the bytes the supervisor's and
// the engine's types gave when they were the wire types (every field set,
// none set), and the field names stay what clients read.
func TestWireJSON(t *testing.T) {
	var st supervise.Status
	fill(reflect.ValueOf(&st).Elem())
	var rep cm.Report
	fill(reflect.ValueOf(&rep).Elem())
	for _, c := range []struct {
		name     string
		was, now any
	}{
		{"status", []supervise.Status{st}, apiServices([]supervise.Status{st})},
		{"status, zero", []supervise.Status{{}}, apiServices([]supervise.Status{{}})},
		{"status, none", []supervise.Status(nil), apiServices(nil)},
		{"report", &rep, apiReport(&rep)},
		{"report, zero", &cm.Report{}, apiReport(&cm.Report{})},
		{"report, nil", (*cm.Report)(nil), apiReport(nil)},
	} {
		was, err := json.Marshal(c.was)
		if err != nil {
			t.Fatal(err)
		}
		now, err := json.Marshal(c.now)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(was, now) {
			t.Errorf("%s: on the wire\n%s\nwas\n%s", c.name, now, was)
		}
	}
	for a, s := range map[string]string{
		api.ServiceStopped: supervise.StateStopped, api.ServiceWaiting: supervise.StateWaiting,
		api.ServiceStarting: supervise.StateStarting, api.ServiceRunning: supervise.StateRunning,
		api.ServiceStopping: supervise.StateStopping, api.ServiceBackoff: supervise.StateBackoff,
		api.ServiceExited: supervise.StateExited, api.ServiceFailed: supervise.StateFailed,
	} {
		if a != s {
			t.Errorf("api names a service state %q, the supervisor %q", a, s)
		}
	}
	got, _ := json.Marshal(api.StatusReply{Services: apiServices([]supervise.Status{st})})
	if want := `{"services":[{"name":"Name","state":"State","reason":"Reason","enabled":true,"pid":1,"since":"2026-01-02T03:04:05Z","uptime":"Uptime","restarts":1,"last_exit":"LastExit","ready":"Ready","ready_ms":1,"requires":["x"],"memory_bytes":1,"cgroup":"Cgroup","notify_status":"Notify","health":"Health","log_dir":"LogDir"}]}`; string(got) != want {
		t.Errorf("status reply:\n%s\nwant\n%s", got, want)
	}
	got, _ = json.Marshal(apiReport(&rep))
	if want := `{"time":"2026-01-02T03:04:05Z","trigger":"Trigger","changes":[{"resource":"Resource","from":"From","result":"Result","what":["x"],"deltas":[{"attr":"Attr","old":"Old","new":"New"}],"diff":"Diff","duration":1,"error":"Err"}],"unchanged":1,"failed":1,"skipped":1,"drifted":1,"duration":1,"dry_run":true,"fights":[{"resource":"Resource","repairs":1,"backoff":1,"until":"2026-01-02T03:04:05Z"}],"config_error":"ConfigError"}`; string(got) != want {
		t.Errorf("apply reply:\n%s\nwant\n%s", got, want)
	}
}

// fill sets every field of v, recursively, to something not zero: a
// string to its field's name, numbers to 1, a slice to one element.
func fill(v reflect.Value) {
	if v.Type() == reflect.TypeOf(time.Time{}) {
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				if f.Kind() == reflect.String {
					f.SetString(v.Type().Field(i).Name)
					continue
				}
				fill(f)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(1)
	}
}
