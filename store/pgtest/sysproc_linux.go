package pgtest

import "syscall"

// sysProcAttr runs a server binary as cred (nil: as ourselves) in a process
// group of its own, so stopping it reaches every process it forked, and asks
// the kernel for PostgreSQL's immediate shutdown when the thread that started
// it ends, so a test binary that dies leaves no server behind.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
}
