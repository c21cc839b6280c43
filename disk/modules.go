package disk

// The kernel modules each format needs: the image builder puts them on
// the image (those the kernel does not have built in), and PID 1 loads
// them before it mounts what they are for.
var (
	// RootFilesystems are what mounting the root needs whatever the
	// disk: its file system (squashfs) and the writable layer over it.
	RootFilesystems = []string{"squashfs", "overlay"}
	// ESPModules mount the ESP.
	ESPModules = fatModules
	// SeedModules are the file systems of a NoCloud seed (ISO 9660 or FAT).
	SeedModules = append([]string{"isofs"}, fatModules...)
)

// fatModules are FAT and the code pages its names are in.
var fatModules = []string{"vfat", "nls_cp437", "nls_utf8", "nls_ascii"}
