// Package execfile knows what execve and execvp read of a program file: the
// PATH a name without a slash is searched in when a service sets none, the
// interpreter named on a script's #! line and the ELF interpreter (PT_INTERP)
// of a dynamically linked program.
//
// It is a leaf that PID 1 links (the supervisor explains a failed exec with
// it), so it imports no debug/elf: the ELF reader reads only the file header
// and the program headers, as the kernel's binfmt_elf does, with every size
// bounded before it is used.
package execfile

// DefaultPATH is the PATH a service gets when its config sets none (the
// supervisor's), searched for programs named without a slash.
const DefaultPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
