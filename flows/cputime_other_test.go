//go:build !unix

package flows_test

// cpuNow is unknown here.
func cpuNow() int64 { return -1 }
