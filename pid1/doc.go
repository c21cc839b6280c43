// Package pid1 is unit's init: what only PID 1 does. It mounts the early
// file systems, sets up the console, cold-plugs devices and loads their
// modules, sets the hostname and brings up lo, reads a NoCloud seed, and
// in the disk format's initramfs finds the root by PARTUUID and switches
// to it (stage 1); then it mounts the data partition, arms the watchdog,
// runs the daemon (package daemon) until a signal or a power request, and
// shuts down in order, or falls back to an emergency console.
package pid1
