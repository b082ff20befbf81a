package portal

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2/bubbletea"
	"github.com/charmbracelet/colorprofile"

	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui"
	"github.com/sspr-kiosk/sspr/tui/styles"
)

// An SSH session keeps one tui.Model for its whole life, but a Bubble Tea
// program only while the screen can change. When the model reports rest
// (tui.RestMsg: the welcome screen, nothing counting down), the program is
// ended without a word to the terminal, which keeps showing the last frame.
// The first key, resize or server notice starts a new program on the same
// model, which repaints the whole screen. A resting session holds no cell
// buffers, no input parser and no frame ticker: about 140 KiB against
// 700 KiB for a running one at 80×24, and no CPU.

// restGrace is how recently input may have reached a program for it still
// to be put to rest: input it read but has not handled yet would be lost.
const restGrace = 250 * time.Millisecond

// maxRestAfter caps the wait before a rest, which doubles with every rest
// of a session. A program asks the terminal a few questions when it
// starts; over a link slower than the wait, the answers would arrive after
// the rest, wake the session, and the new program would ask again, for as
// long as the connection lasts. Doubling ends that in a few rounds.
const maxRestAfter = time.Minute

// tuiSession is the TUI of one SSH session.
type tuiSession struct {
	srv   *Server
	sess  ssh.Session
	model *tui.Model
	keys  *keyboard
	maxW  int
	maxH  int
	// env is the session's environment with its terminal type: a program
	// must never read the server's own.
	env []string

	mu      sync.Mutex
	width   int
	height  int
	program *tea.Program // nil while resting
	notice  *tui.NoticeMsg
	wake    chan struct{} // a notice arrived while resting
}

// sessionLanguage is the language a session starts in: the one the
// client's environment names (LC_ALL, LC_MESSAGES, LANG, as sent with
// "ssh -o SendEnv=LANG") when sspr speaks it, else the portal's.
func sessionLanguage(environ []string, portal string) string {
	if l, ok := locale.Embedded().FromEnviron(environ); ok {
		return l.Code
	}
	return portal
}

// serveTUI is the innermost middleware: the session's TUI, run program
// after program until the person leaves or the connection ends.
func (s *Server) serveTUI(sess ssh.Session) {
	pty, windowChanges, _ := sess.Pty()
	maxW, maxH := clampLimits(s.opts.SSH)
	t := &tuiSession{srv: s, sess: sess, maxW: maxW, maxH: maxH, wake: make(chan struct{}, 1),
		env: append(sess.Environ(), "TERM="+pty.Term)}
	t.width, t.height = t.clamp(pty.Window.Width, pty.Window.Height)
	t.model = tui.New(tui.Options{
		Context: sess.Context(), Service: s.opts.Service, Source: "ssh:" + hostOf(sess.RemoteAddr()),
		Mode: s.opts.Mode, IdleTimeout: s.opts.IdleTimeout, DoneTimeout: s.opts.DoneTimeout,
		Banner: s.opts.Banner, Dark: true, CostPerCall: s.opts.CostPerCall, Currency: s.opts.Currency,
		RestAfter: s.opts.SSH.RestAfter, Theme: s.theme, Language: sessionLanguage(sess.Environ(), s.opts.Language),
		// The key the client signed with in the handshake, read after
		// authentication: the library keeps the verified key's, never a
		// key only offered.
		ClientKey: sess.PublicKey(),
	})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.live[t] = struct{}{}
	s.sessions.Add(1)
	draining, notice := s.draining, s.restartNotice()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.live, t)
		s.mu.Unlock()
		s.sessions.Done()
	}()
	t.keys = newKeyboard(sess.Context(), s.closeWhenIdle(sess), newBudget(time.Now))
	if draining {
		// Shutdown began after this session passed the capacity check.
		t.notify(notice)
	}

	restAfter := s.opts.SSH.RestAfter
	for {
		rested, err := t.run(windowChanges)
		if err != nil || !rested {
			if err == nil {
				ended(sess.Context(), "left")
			}
			return
		}
		restAfter = min(2*restAfter, maxRestAfter)
		t.model.SetRestAfter(restAfter)
		if t.model.AtRest() && !t.sleep(windowChanges) {
			return
		}
	}
}

// resize records the window's new size, clamped: every size a program is
// given passes through here or through serveTUI's first clamp.
func (t *tuiSession) resize(win ssh.Window) {
	w, h := t.clamp(win.Width, win.Height)
	t.mu.Lock()
	t.width, t.height = w, h
	t.mu.Unlock()
}

// clamp bounds a size the client claims: the renderer's memory grows with it.
func (t *tuiSession) clamp(w, h int) (int, int) {
	return min(max(w, 1), t.maxW), min(max(h, 1), t.maxH)
}

// run runs one program until it ends. rested reports that it ended because
// the model came to rest, not because the person left.
func (t *tuiSession) run(windowChanges <-chan ssh.Window) (rested bool, err error) {
	// A wake-up signalled while the last program ran is answered by this
	// one; left in the channel it would end the next rest at once.
	select {
	case <-t.wake:
	default:
	}
	in, out := t.keys.attach(), &gate{w: t.sess}
	var restedFlag atomic.Bool
	p := tea.NewProgram(t.model, t.programOptions(in, out, &restedFlag)...)

	t.mu.Lock()
	t.program = p
	notice := t.notice
	t.mu.Unlock()
	if notice != nil {
		go p.Send(*notice)
	}

	// Resizes go to the program while it runs; the channel is handed back
	// before the session rests.
	stop := make(chan struct{})
	var watching sync.WaitGroup
	watching.Go(func() { t.watch(p, windowChanges, stop) })

	_, err = p.Run()
	close(stop)
	watching.Wait()
	in.retire(time.Time{})
	t.mu.Lock()
	t.program = nil
	t.mu.Unlock()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		t.srv.logError("session program", err)
	}
	return restedFlag.Load(), err
}

// programOptions are one program's: the session's terminal, size and
// context, its own input and output, and a filter that puts the program to
// rest (setting rested) when the model asks and no key is on its way.
func (t *tuiSession) programOptions(in *programInput, out *gate, rested *atomic.Bool) []tea.ProgramOption {
	t.mu.Lock()
	w, h := t.width, t.height
	t.mu.Unlock()
	// wish's MakeOptions first, for what the session's PTY needs; the
	// options after it replace its input, output and filter with this
	// session's own.
	return append(bubbletea.MakeOptions(t.sess),
		tea.WithInput(in),
		tea.WithOutput(out),
		tea.WithEnvironment(t.env),
		tea.WithColorProfile(styles.Profile(colorprofile.Env(t.env), t.env)),
		tea.WithWindowSize(w, h),
		tea.WithContext(t.sess.Context()),
		tea.WithoutSignalHandler(),
		// A program draws its first frame on its first tick: at 120 a
		// new session or one waking from rest shows 8 ms sooner than at
		// the default 60. A resting session has no ticker at all; a
		// session in use idles at about 0.05% of a core.
		tea.WithFPS(120),
		tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
			switch msg.(type) {
			case tui.RestMsg:
				if !in.retire(time.Now()) {
					// A key is on its way in: stay up for it, and let the
					// model try again later.
					return msg
				}
				out.shut()
				rested.Store(true)
				t.srv.rested(t.sess.Context())
				return tea.QuitMsg{}
			case tea.SuspendMsg:
				// ctrl+z must not suspend a server-side program.
				return nil
			}
			return msg
		}),
	)
}

// watch passes window changes on to a running program until stop, at most
// one per resizeEvery and the latest of any in between, and ends the
// program when the session's input or channel closes.
func (t *tuiSession) watch(p *tea.Program, windowChanges <-chan ssh.Window, stop <-chan struct{}) {
	cooldown := time.NewTimer(0)
	defer cooldown.Stop()
	<-cooldown.C
	var pace pacer
	sendSize := func() {
		t.mu.Lock()
		w, h := t.width, t.height
		t.mu.Unlock()
		p.Send(tea.WindowSizeMsg{Width: w, Height: h})
		cooldown.Reset(resizeEvery)
	}
	for {
		select {
		case <-stop:
			return
		case <-t.keys.ended:
			// No more input: nobody can use the screen any more.
			ended(t.sess.Context(), "input closed")
			p.Quit()
			return
		case win, ok := <-windowChanges:
			if !ok {
				// The channel is closed: the session is over.
				ended(t.sess.Context(), "channel closed")
				p.Quit()
				return
			}
			t.resize(win)
			if pace.arrived() {
				sendSize()
			}
		case <-cooldown.C:
			if pace.cooled() {
				sendSize()
			}
		}
	}
}

// sleep waits, with no program, for a reason to draw again: a key, a
// resize or a notice. It returns false when the session ends instead.
func (t *tuiSession) sleep(windowChanges <-chan ssh.Window) bool {
	if t.keys.hasUnread() {
		return true
	}
	select {
	case <-t.sess.Context().Done():
		return false
	case <-t.wake:
		return true
	case win, ok := <-windowChanges:
		if ok {
			t.resize(win)
		}
		return ok
	case c, ok := <-t.keys.chunks:
		t.keys.putBack(c)
		return ok
	}
}

// notify shows a server notice on the session, waking it if it rests.
func (t *tuiSession) notify(msg tui.NoticeMsg) {
	t.mu.Lock()
	t.notice = &msg
	p := t.program
	t.mu.Unlock()
	if p != nil {
		go p.Send(msg)
	}
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// gate passes a program's output to the session until it is shut: a
// program put to rest must not tell the terminal to leave the alternate
// screen, as it would when it ends.
type gate struct {
	w      io.Writer
	closed atomic.Bool
}

// Write implements io.Writer.
func (g *gate) Write(p []byte) (int, error) {
	if g.closed.Load() {
		return len(p), nil
	}
	return g.w.Write(p)
}

func (g *gate) shut() { g.closed.Store(true) }
