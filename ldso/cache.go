package ldso

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// The new ld.so.cache format (glibc 2.32+ reads only this one).
const (
	cacheMagic      = "glibc-ld.so.cache1.1"
	cacheHeaderSize = 48 // magic+version 20, nlibs 4, len_strings 4, flags 1, pad 3, extension_offset 4, unused 12
	cacheEntrySize  = 24 // flags 4, key 4, value 4, osversion 4, hwcap 8
	endianLittle    = 2  // cache_file_new_flags_endian_little

	// FlagX8664 is FLAG_ELF_LIBC6 | FLAG_X8664_LIB64, what ld.so on x86_64
	// accepts (_DL_CACHE_DEFAULT_ID).
	FlagX8664 = 0x0303
)

// TrustedDirs are the directories ldconfig always scans on Debian x86_64.
var TrustedDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"}

// CacheEntry is one library of an ld.so.cache.
type CacheEntry struct {
	Flags  int32
	Soname string
	Path   string
}

// CacheDirs is what WriteCache scans when given no dirs: the ld.so.conf
// dirs of the view, then the trusted dirs, without duplicates.
func CacheDirs(v View) ([]string, error) {
	conf, err := ConfDirs(v)
	if err != nil {
		return nil, err
	}
	out := append([]string{}, conf...)
	for _, d := range TrustedDirs {
		if !contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// WriteCache builds an ld.so.cache for the x86_64 libraries in dirs inside
// v (nil dirs: CacheDirs(v)). The output is deterministic.
func WriteCache(v View, dirs []string) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("ldso: write cache: malformed input: %v", r)
		}
	}()
	if dirs == nil {
		var err error
		if dirs, err = CacheDirs(v); err != nil {
			return nil, err
		}
	}
	entries, err := CacheEntries(v, dirs)
	if err != nil {
		return nil, err
	}
	return encodeCache(entries), nil
}

// CacheEntries scans dirs as ldconfig does and returns the entries in
// cache order: libcmp-descending by soname, dir order among equal names.
func CacheEntries(v View, dirs []string) ([]CacheEntry, error) {
	var entries []CacheEntry
	seenDir := map[string]bool{}
	for _, d := range dirs {
		real, _, err := Resolve(v, d)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("cache dir %s: %w", d, err)
		}
		if seenDir[real] {
			continue
		}
		seenDir[real] = true
		es, err := scanDir(v, d, real)
		if err != nil {
			return nil, err
		}
		entries = append(entries, es...)
	}
	sort.SliceStable(entries, func(i, j int) bool {
		return libcmp(entries[i].Soname, entries[j].Soname) > 0
	})
	return entries, nil
}

// scanDir lists the libraries of one dir (d as configured, real resolved).
func scanDir(v View, d, real string) ([]CacheEntry, error) {
	names, err := v.ReadDir(real)
	if err != nil {
		return nil, fmt.Errorf("cache dir %s: %w", d, err)
	}
	bySoname := map[string]bool{}
	var out []CacheEntry
	for _, n := range names {
		if !(strings.HasPrefix(n, "lib") || strings.HasPrefix(n, "ld-")) || !strings.Contains(n, ".so") {
			continue
		}
		soname, ok, err := libSoname(v, path.Join(real, n))
		if err != nil {
			return nil, err
		}
		if !ok || bySoname[soname] {
			continue
		}
		bySoname[soname] = true
		out = append(out, CacheEntry{Flags: FlagX8664, Soname: soname, Path: path.Join(d, soname)})
	}
	return out, nil
}

// libSoname reads the soname of an x86_64 ELF64 shared object (its file
// name if it has none); ok is false for anything else.
func libSoname(v View, p string) (string, bool, error) {
	real, _, err := Resolve(v, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrLoop) {
			return "", false, nil // dangling link: ldconfig skips it too
		}
		return "", false, err
	}
	fi, err := v.Lstat(real)
	if err != nil || !fi.Mode().IsRegular() {
		return "", false, nil
	}
	f, err := v.Open(real)
	if err != nil {
		return "", false, fmt.Errorf("open %s: %w", p, err)
	}
	defer f.Close()
	ef, err := elf.NewFile(f)
	if err != nil || ef.Class != elf.ELFCLASS64 || ef.Machine != elf.EM_X86_64 || ef.Type != elf.ET_DYN {
		return "", false, nil
	}
	sn, err := ef.DynString(elf.DT_SONAME)
	if err != nil {
		return "", false, nil
	}
	if len(sn) > 0 && sn[0] != "" && !strings.Contains(sn[0], "/") {
		return sn[0], true, nil
	}
	return path.Base(p), true, nil
}

func encodeCache(entries []CacheEntry) []byte {
	le := binary.LittleEndian
	strStart := cacheHeaderSize + len(entries)*cacheEntrySize
	var strs bytes.Buffer
	offsets := map[string]uint32{}
	intern := func(s string) uint32 {
		if off, ok := offsets[s]; ok {
			return off
		}
		off := uint32(strStart + strs.Len())
		offsets[s] = off
		strs.WriteString(s)
		strs.WriteByte(0)
		return off
	}
	buf := make([]byte, strStart)
	copy(buf, cacheMagic)
	le.PutUint32(buf[20:], uint32(len(entries)))
	buf[28] = endianLittle
	for i, e := range entries {
		o := cacheHeaderSize + i*cacheEntrySize
		le.PutUint32(buf[o:], uint32(e.Flags))
		le.PutUint32(buf[o+4:], intern(e.Soname))
		le.PutUint32(buf[o+8:], intern(e.Path))
	}
	le.PutUint32(buf[24:], uint32(strs.Len()))
	return append(buf, strs.Bytes()...)
}

// ParseCache decodes a new-format ld.so.cache (any extension is ignored).
func ParseCache(b []byte) ([]CacheEntry, error) {
	le := binary.LittleEndian
	if len(b) < cacheHeaderSize || string(b[:20]) != cacheMagic {
		return nil, errors.New("ld.so.cache: bad magic")
	}
	n := int(le.Uint32(b[20:]))
	if n > (len(b)-cacheHeaderSize)/cacheEntrySize {
		return nil, fmt.Errorf("ld.so.cache: %d entries do not fit in %d bytes", n, len(b))
	}
	str := func(off uint32) (string, error) {
		if int(off) >= len(b) {
			return "", fmt.Errorf("ld.so.cache: string offset %d out of range", off)
		}
		s, _, ok := bytes.Cut(b[off:], []byte{0})
		if !ok {
			return "", errors.New("ld.so.cache: unterminated string")
		}
		return string(s), nil
	}
	out := make([]CacheEntry, 0, n)
	for i := 0; i < n; i++ {
		o := cacheHeaderSize + i*cacheEntrySize
		k, err := str(le.Uint32(b[o+4:]))
		if err != nil {
			return nil, err
		}
		val, err := str(le.Uint32(b[o+8:]))
		if err != nil {
			return nil, err
		}
		out = append(out, CacheEntry{Flags: int32(le.Uint32(b[o:])), Soname: k, Path: val})
	}
	return out, nil
}

// libcmp orders library names as glibc's _dl_cache_libcmp: runs of digits
// compare as numbers, a digit sorts after a non-digit.
func libcmp(a, b string) int {
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	i, j := 0, 0
	for i < len(a) {
		switch {
		case isDigit(a[i]) && j < len(b) && isDigit(b[j]):
			v1, v2 := 0, 0
			for i < len(a) && isDigit(a[i]) {
				v1 = v1*10 + int(a[i]-'0')
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				v2 = v2*10 + int(b[j]-'0')
				j++
			}
			if v1 != v2 {
				return v1 - v2
			}
		case isDigit(a[i]):
			return 1
		case j < len(b) && isDigit(b[j]):
			return -1
		case j >= len(b) || a[i] != b[j]:
			if j >= len(b) {
				return int(a[i])
			}
			return int(a[i]) - int(b[j])
		default:
			i++
			j++
		}
	}
	if j < len(b) {
		return -int(b[j])
	}
	return 0
}
