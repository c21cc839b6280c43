package main

import "unsafe"

// unsafePointer views inotify's packed event header in the read buffer.
func unsafePointer(b *byte) unsafe.Pointer { return unsafe.Pointer(b) }
