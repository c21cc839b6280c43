package cm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"syscall"

	"github.com/unit-os/unit/config"
	"golang.org/x/sys/unix"
)

// fileRes is a [file."PATH"] resource. It holds only desired state; what is
// on disk is looked at in Check/Apply, never cached, so the kernel's word
// (via inotify) is the only trigger and the disk the only truth.
//
// It is kept small: `unit run` holds one per managed file (10,000 in the
// memory figure), so the keys most files leave unset live in fileOpts,
// shared by every file that sets none of them.
type fileRes struct {
	id         string // "file:" + path, built once: it keys several maps
	path       string // id without "file:" (the same bytes)
	content    string
	hasContent bool // else a template or a source
	absent     bool
	mode       uint32 // unix permission bits including setuid/setgid/sticky
	*fileOpts
	env *env
}

// fileOpts are a file's less common keys. Never modified once built: the
// zero value is shared (plainFile).
type fileOpts struct {
	source string
	owner  string
	group  string
	tmpl   *string // text/template source
	vars   map[string]any
	notify []string
	pkg    *config.Package // the package a "package:NAME/..." source names
}

// plainFile is the fileOpts of every file that sets none of them; it is
// read-only.
var plainFile = &fileOpts{}

func newFile(f *config.File, b *builder) *fileRes {
	id := "file:" + f.Name
	r := &fileRes{
		id:       id,
		path:     id[len("file:"):],
		mode:     f.FileMode,
		absent:   f.Absent(),
		fileOpts: plainFile,
		env:      b.env,
	}
	if f.Source != "" || f.Owner != "" || f.Group != "" || f.Template != nil || len(f.Vars) > 0 || len(f.Notify) > 0 {
		r.fileOpts = &fileOpts{source: f.Source, owner: f.Owner, group: f.Group, vars: f.Vars, notify: slices.Clone(f.Notify),
			pkg: packageOf(b.cfg, f.Source)}
		if f.Template != nil {
			t := *f.Template
			r.tmpl = &t
		}
	}
	if r.mode == 0 && f.Mode == "" {
		r.mode = 0o644 // a config that skipped validation still gets the default
	}
	if f.Content != nil {
		r.content, r.hasContent = *f.Content, true
	}
	return r
}

func (f *fileRes) ID() string                   { return f.id }
func (f *fileRes) Notifies() []string           { return f.notify }
func (f *fileRes) Path() string                 { return f.path }
func (f *fileRes) Owners() (user, group string) { return f.owner, f.group }

// Watches includes the source so that editing it updates the target.
func (f *fileRes) Watches() []string {
	if f.source != "" && !f.absent {
		if src, err := f.sourcePath(); err == nil {
			return []string{f.path, src}
		}
	}
	return []string{f.path}
}

func (f *fileRes) Same(other Resource) bool {
	o, ok := other.(*fileRes)
	if !ok {
		return false
	}
	if f.hasContent != o.hasContent || f.content != o.content || !sameStr(f.tmpl, o.tmpl) || !reflect.DeepEqual(f.vars, o.vars) {
		return false
	}
	if (f.pkg == nil) != (o.pkg == nil) || f.pkg != nil && !reflect.DeepEqual(*f.pkg, *o.pkg) {
		return false
	}
	return f.path == o.path && f.source == o.source && f.mode == o.mode &&
		f.owner == o.owner && f.group == o.group && f.absent == o.absent &&
		slices.Equal(f.notify, o.notify)
}

// filePlan is the difference between disk and desired state.
type filePlan struct {
	what     []Delta
	old      []byte // current content, for a diff
	remove   bool
	write    bool // content (or the file itself) must be replaced
	data     []byte
	uid, gid int // ids to set; -1 leaves as is
	chown    bool
	chmod    bool
	// onDisk is the file now: its directory (reached by a safe walk; nil
	// when it does not exist yet: a write makes it) and its lstat.
	*onDisk
}

func (f *fileRes) Check(ctx context.Context) ([]Delta, error) {
	p, err := f.plan(ctx)
	if err != nil {
		return nil, err
	}
	p.close()
	return p.what, nil
}

func (f *fileRes) Apply(ctx context.Context) ([]Delta, error) {
	p, err := f.plan(ctx)
	if err != nil {
		return nil, err
	}
	defer p.close()
	if len(p.what) == 0 {
		return nil, nil
	}
	switch {
	case p.remove:
		if err := unix.Unlinkat(p.dir.Fd(), p.base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("remove %s: %w", f.path, err)
		}
	case p.write:
		if err := p.makeParent(ctx, f.path); err != nil {
			return nil, err
		}
		if st := stagerFrom(ctx); st != nil {
			err = st.write(f.ID(), p.dir, p.base, p.data, fileMode(f.mode), p.uid, p.gid)
		} else {
			err = writeFileAt(p.dir, p.base, p.data, fileMode(f.mode), p.uid, p.gid, &f.env.dirs)
		}
		if err != nil {
			return nil, err
		}
	default:
		// Attributes only: change them in place, the content (and mtime) stay.
		if err := setAttrsAt(p.dir, p.base, unix.S_IFREG, p.uid, p.gid, fileMode(f.mode)); err != nil {
			return nil, err
		}
	}
	return p.what, nil
}

// plan compares the disk with the desired state. The caller closes it.
func (f *fileRes) plan(ctx context.Context) (_ *filePlan, err error) {
	f.env.sweepFor(f.path) // a killed apply's leftovers, once per directory
	o, err := look(ctx, f.path)
	if err != nil {
		return nil, err
	}
	p := &filePlan{uid: -1, gid: -1, onDisk: o}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	st, kind := o.st, o.kind()
	if f.absent {
		if !p.exists {
			return p, nil
		}
		if kind == unix.S_IFDIR {
			return nil, fmt.Errorf("ensure absent: %s is a directory; not removing it", f.path)
		}
		p.remove, p.what = true, []Delta{{Attr: whatRemoved}}
		return p, nil
	}

	if p.data, err = f.desiredContent(); err != nil {
		return nil, err
	}
	if p.uid, err = f.env.lookupUID(f.owner); err != nil {
		return nil, err
	}
	if p.gid, err = f.env.lookupGID(f.group); err != nil {
		return nil, err
	}
	switch {
	case !p.exists:
		p.write, p.what = true, []Delta{{Attr: whatCreated}}
		return p, nil
	case kind == unix.S_IFDIR:
		return nil, fmt.Errorf("%s is a directory", f.path)
	case kind != unix.S_IFREG:
		p.write, p.what = true, []Delta{delta("type", unixType(st.Mode), "file")}
		return p, nil
	}

	cur, err := readAt(p.dir, p.base, st.Size)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(cur, p.data) {
		p.write, p.old = true, cur
		p.what = append(p.what, delta("content", contentSum(cur), contentSum(p.data)))
	}
	if m := st.Mode & 0o7777; m != f.mode {
		p.chmod = true
		p.what = append(p.what, delta("mode", fmt.Sprintf("%04o", m), fmt.Sprintf("%04o", f.mode)))
	}
	if p.uid >= 0 && uint32(p.uid) != st.Uid {
		p.chown = true
		p.what = append(p.what, delta("owner", fmt.Sprint(st.Uid), fmt.Sprint(p.uid)))
	}
	if p.gid >= 0 && uint32(p.gid) != st.Gid {
		p.chown = true
		p.what = append(p.what, delta("group", fmt.Sprint(st.Gid), fmt.Sprint(p.gid)))
	}
	// A rewrite keeps unmanaged ids as they were on the old file.
	if p.uid < 0 {
		p.uid = int(st.Uid)
	}
	if p.gid < 0 {
		p.gid = int(st.Gid)
	}
	return p, nil
}

func (f *fileRes) desiredContent() ([]byte, error) {
	if f.hasContent {
		return []byte(f.content), nil
	}
	if f.tmpl != nil {
		return f.render()
	}
	src, err := f.sourcePath()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	return data, nil
}

// fileMode converts unix mode bits to Go's os.FileMode, whose setuid, setgid
// and sticky bits live elsewhere.
func fileMode(m uint32) os.FileMode {
	fm := os.FileMode(m & 0o777)
	if m&syscall.S_ISUID != 0 {
		fm |= os.ModeSetuid
	}
	if m&syscall.S_ISGID != 0 {
		fm |= os.ModeSetgid
	}
	if m&syscall.S_ISVTX != 0 {
		fm |= os.ModeSticky
	}
	return fm
}

// Diff is the unified diff from the file on disk to the desired content.
func (f *fileRes) Diff(ctx context.Context) (string, error) {
	p, err := f.plan(ctx)
	if err != nil {
		return "", err
	}
	p.close()
	if !p.write || p.remove {
		return "", nil
	}
	return unifiedDiff(f.path, p.old, p.data), nil
}

// render executes the template with .vars and .facts; map keys are
// iterated sorted by text/template, so the output is deterministic.
func (f *fileRes) render() ([]byte, error) {
	t, err := config.ParseTemplate(f.path, *f.tmpl)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	facts := f.env.facts.Load()
	if facts == nil {
		facts = &Facts{}
	}
	var b bytes.Buffer
	if err := t.Execute(&b, facts.templateData(f.vars)); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	return b.Bytes(), nil
}

// contentSum names content in a report by size and hash, not by bytes.
func contentSum(b []byte) string {
	h := sha256.Sum256(b)
	return fmt.Sprintf("%d bytes sha256:%x", len(b), h[:6])
}

func sameStr(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// Purge removes the file when its resource leaves the config with purge.
func (f *fileRes) Purge(ctx context.Context) ([]Delta, error) {
	gone := *f
	gone.absent = true
	return gone.Apply(ctx)
}

// ReadsFacts: a template may render the facts (a factsReader).
func (f *fileRes) ReadsFacts() bool { return f.tmpl != nil }
