// Package ldso computes what the dynamic loader needs at run time: the
// closure of files a set of programs loads (ELF interpreter, shared
// libraries, the symlinks leading to them, script interpreters) inside a
// root tree that is not the host's /, and a glibc ld.so.cache for that tree.
//
// Paths are resolved inside a View: an absolute symlink target is re-rooted,
// ".." never climbs above the root and more than 40 symlink hops is an error,
// so a hostile tree can never make this package read a host file.
//
// Search order for a DT_NEEDED name, as glibc's ld.so does it on x86_64:
//
//  1. A name containing '/' is a path (after $ORIGIN/$LIB/$PLATFORM expansion).
//  2. If the needing object has no DT_RUNPATH: the DT_RPATH of the needing
//     object, then of the object that loaded it, and so on up to the
//     program, then the program's own DT_RPATH (objects with DT_RUNPATH
//     contribute no DT_RPATH).
//  3. LD_LIBRARY_PATH: not used (an image has no environment at build time).
//  4. The DT_RUNPATH of the needing object only (not inherited).
//  5. The loader cache: the directories of /etc/ld.so.conf (and its include
//     globs) inside the view, unless the object is DF_1_NODEFLIB.
//  6. The default dirs /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu,
//     /lib, /usr/lib (Debian's ld.so system search path), then /lib64 and
//     /usr/lib64, unless DF_1_NODEFLIB.
//
// A candidate that is not a 64-bit x86_64 ELF shared object is skipped and
// the search goes on, as ld.so does. Dependencies are loaded breadth first
// and a name already loaded is not searched again. $ORIGIN is the directory
// of the program's resolved path, or for a library the directory of the
// path it was found under; $LIB is Options.LIB (default "lib/x86_64-linux-gnu", as on Debian) and
// $PLATFORM is "x86_64".
//
// Not covered: glibc-hwcaps subdirectories and legacy hwcap dirs, $PLATFORM
// multilib layouts, LD_PRELOAD and /etc/ld.so.preload, secure-mode (setuid)
// restrictions on $ORIGIN, and libraries opened with dlopen (pass them in
// Options.Extra).
package ldso
