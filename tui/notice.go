package tui

// NoticeMsg shows a line on every screen until it is replaced, such as
// "the portal is restarting". An empty Text clears it.
type NoticeMsg struct{ Text string }
