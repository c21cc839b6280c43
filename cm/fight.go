package cm

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Fight detection: someone rewriting a managed file in a loop would make
// the engine repair it in a loop. After fightRepairs drift repairs of one
// resource within fightWindow, its repairs are delayed, doubling from
// fightMinBackoff up to fightMaxBackoff; a quiet fightWindow ends the fight.
const (
	fightRepairs    = 5
	fightWindow     = 10 * time.Second
	fightMinBackoff = 200 * time.Millisecond
	fightMaxBackoff = time.Minute
)

// Fight is one resource under fight backoff, as reports show it.
type Fight struct {
	Resource string        `json:"resource"`
	Repairs  int           `json:"repairs"` // drift repairs within the window
	Backoff  time.Duration `json:"backoff"`
	Until    time.Time     `json:"until"` // next repair not before
}

func (f Fight) String() string {
	return fmt.Sprintf("rewritten by someone else %d times within %s; repairs backed off %s",
		f.Repairs, fightWindow, f.Backoff)
}

type fightState struct {
	repairs []time.Time
	backoff time.Duration
	until   time.Time
}

// fights tracks repair history; owned by the Run goroutine.
type fights map[string]*fightState

// repaired records a drift repair at now; it returns the new fight state
// when the resource starts (or keeps) fighting, nil otherwise.
func (fs fights) repaired(id string, now time.Time) *Fight {
	s := fs[id]
	if s == nil {
		s = &fightState{}
		fs[id] = s
	}
	keep := s.repairs[:0]
	for _, t := range s.repairs {
		if now.Sub(t) < fightWindow {
			keep = append(keep, t)
		}
	}
	s.repairs = append(keep, now)
	if len(s.repairs) < fightRepairs {
		if s.backoff != 0 && len(s.repairs) == 1 {
			s.backoff = 0 // a quiet window: the fight is over
		}
		return nil
	}
	s.backoff = min(max(s.backoff*2, fightMinBackoff), fightMaxBackoff)
	s.until = now.Add(s.backoff)
	return &Fight{Resource: id, Repairs: len(s.repairs), Backoff: s.backoff, Until: s.until}
}

// blocked reports whether id must wait, and until when.
func (fs fights) blocked(id string, now time.Time) (time.Time, bool) {
	s := fs[id]
	if s == nil || !now.Before(s.until) {
		return time.Time{}, false
	}
	return s.until, true
}

// active lists resources still in backoff or within a fight window.
func (fs fights) active(now time.Time) []Fight {
	var out []Fight
	for _, id := range slices.Sorted(maps.Keys(fs)) {
		s := fs[id]
		if s.backoff == 0 || len(s.repairs) == 0 || now.Sub(s.repairs[len(s.repairs)-1]) >= fightWindow {
			continue
		}
		out = append(out, Fight{Resource: id, Repairs: len(s.repairs), Backoff: s.backoff, Until: s.until})
	}
	return out
}

// forget drops history of resources no longer configured.
func (fs fights) forget(id string) { delete(fs, id) }
