//go:build unix && !linux

package pgtest

import "syscall"

// sysProcAttr runs a server binary as cred (nil: as ourselves) in a process
// group of its own. There is no parent-death signal here: a test binary that
// dies without Main leaves its server running.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
