package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/sspr-kiosk/sspr/flows"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/flows/policy"
	"github.com/sspr-kiosk/sspr/flows/sshkey"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// sshKeys lists a person's SSH keys and adds or removes them: a key is
// added by pasting its public key line or, over SSH with a key, by taking
// the key of the connection in one keypress.
type sshKeys struct {
	e         *env
	sessionID string
	keys      []flows.SSHKey
	loaded    bool
	menu      menu
	// labels are the menu's items, written into it at each draw.
	labels  []phrase
	actions []func() tea.Cmd
	// pasting is on while the field for a public key line has the focus.
	pasting bool
	input   textinput.Model
	// confirm asks before a key is removed.
	confirm *overviewConfirm
	req     request
	// pending is the catalogue ID of what is under way, or "".
	pending string
	err     string
	note    phrase
	// changed makes the overview reload on the way back.
	changed bool
}

func newSSHKeys(e *env, sessionID string) *sshKeys {
	// The field's hint is written at each draw, in the visit's language.
	s := &sshKeys{e: e, sessionID: sessionID, input: newInput(e, "", sshkey.MaxLineLength, false)}
	// The connected key's fingerprint is read whole, on a line of its own
	// when it does not fit beside the item.
	s.menu.wholeHints = true
	return s
}

type sshKeysMsg struct {
	keys []flows.SSHKey
	err  error
}

// sshKeyDoneMsg reports a key added or removed, with the keys as they are
// now, so that the note and the list change in one frame.
type sshKeyDoneMsg struct {
	seq  int
	note phrase
	err  error
	keys sshKeysMsg
}

// sshKeyDone finishes a change: on success it reads the keys as they are
// now.
func sshKeyDone(e *env, id string, seq int, note phrase, err error) sshKeyDoneMsg {
	done := sshKeyDoneMsg{seq: seq, note: note, err: err}
	if err == nil {
		done.keys.keys, done.keys.err = e.svc.SSHKeys(e.ctx, id)
	}
	return done
}

func (s *sshKeys) init() tea.Cmd {
	e, id := s.e, s.sessionID
	return func() tea.Msg {
		keys, err := e.svc.SSHKeys(e.ctx, id)
		return sshKeysMsg{keys: keys, err: err}
	}
}

func (s *sshKeys) title() string { return s.e.p.T("info.title.sshkeys") }
func (s *sshKeys) typing() bool  { return s.pasting }

func (s *sshKeys) focusedField() *textinput.Model {
	if !s.pasting {
		return nil
	}
	return &s.input
}

func (s *sshKeys) help() []key.Binding {
	switch {
	case s.confirm != nil:
		return []key.Binding{s.e.keys.Confirm, s.e.keys.Cancel}
	case s.pasting:
		return []key.Binding{s.e.keys.Select, s.e.keys.Back}
	}
	return []key.Binding{s.e.keys.Up, s.e.keys.Down, s.e.keys.Select, s.e.keys.Back}
}

func (s *sshKeys) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case sshKeysMsg:
		if msg.err != nil {
			return s, showDeadEnd(s.e, s.e.p.T("info.cant_continue"), sentence(s.e, msg.err))
		}
		s.keys, s.loaded = msg.keys, true
		s.build()
		return s, nil
	case sshKeyDoneMsg:
		if !s.req.current(msg.seq) {
			return s, nil
		}
		s.pending = ""
		if msg.err != nil {
			return s, failure(s.e, s.e.p.T("info.cant_continue"), msg.err, &s.err)
		}
		s.changed, s.note, s.pasting = true, msg.note, false
		s.input.SetValue("")
		s.input.Blur()
		return s.update(msg.keys)
	case tea.KeyPressMsg:
		return s, s.key(msg)
	}
	if s.pasting {
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		return s, cmd
	}
	return s, nil
}

func (s *sshKeys) key(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case s.confirm != nil:
		switch {
		case key.Matches(msg, s.e.keys.Confirm):
			run := s.confirm.run
			s.confirm = nil
			return run()
		case key.Matches(msg, s.e.keys.Cancel), key.Matches(msg, s.e.keys.Back):
			s.confirm = nil
		}
		return nil
	case key.Matches(msg, s.e.keys.Back) && s.pasting:
		s.req.next(s.e)
		s.pasting, s.pending, s.err = false, "", ""
		s.input.Blur()
		return nil
	case key.Matches(msg, s.e.keys.Back):
		s.req.next(s.e)
		if s.changed {
			return backToOverview(s.note)
		}
		return pop
	case s.pasting && key.Matches(msg, s.e.keys.Select):
		return s.add(func(e *env, id string) (flows.SSHKey, error) {
			return e.svc.AddSSHKey(e.ctx, id, s.input.Value())
		})
	case s.pasting:
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		return cmd
	case !s.loaded || len(s.actions) == 0 || s.pending != "":
		return nil
	}
	i, ok := s.menu.update(s.e, msg)
	if !ok {
		return nil
	}
	s.err, s.note = "", phrase{}
	return s.actions[i]()
}

// add registers a key in the background and reports it.
func (s *sshKeys) add(run func(*env, string) (flows.SSHKey, error)) tea.Cmd {
	if s.pending != "" {
		return nil
	}
	e, id, seq := s.e, s.sessionID, s.req.next(s.e)
	s.pending, s.err, s.note = "info.sshkey.saving", "", phrase{}
	return func() tea.Msg {
		k, err := run(e, id)
		return sshKeyDone(e, id, seq, say("info.sshkey.added", locale.Args{"Type": k.Name, "Fingerprint": k.Fingerprint}), err)
	}
}

// connected describes the key this SSH connection was made with, when it
// is not registered yet; ok is false otherwise. A key too weak to register
// is still offered, so that choosing it says why.
func (s *sshKeys) connected() (desc string, ok bool) {
	if s.e.clientKey == nil {
		return "", false
	}
	k, err := flows.DescribeSSHKey(s.e.clientKey)
	if err != nil {
		return "", true
	}
	if slices.ContainsFunc(s.keys, func(r flows.SSHKey) bool { return r.Fingerprint == k.Fingerprint }) {
		return "", false
	}
	return k.Name + " " + k.Fingerprint, true
}

// own counts the keys registered here, which the limit is about; keys the
// directory holds do not count.
func (s *sshKeys) own() int {
	n := 0
	for _, k := range s.keys {
		if !k.FromDirectory {
			n++
		}
	}
	return n
}

// build lays out the actions: the connected key first, so one keypress
// takes it; then pasting; then a removal for each key.
func (s *sshKeys) build() {
	s.menu.items, s.menu.hints, s.labels, s.actions = nil, nil, nil, nil
	add := func(label phrase, hint string, fn func() tea.Cmd) {
		s.labels = append(s.labels, label)
		s.menu.items = append(s.menu.items, label.in(s.e.p))
		s.menu.hints = append(s.menu.hints, hint)
		s.actions = append(s.actions, fn)
	}
	if s.own() < policy.MaxSSHKeys {
		if desc, ok := s.connected(); ok {
			add(say("info.sshkey.use_connected", nil), desc, func() tea.Cmd {
				pk := s.e.clientKey
				return s.add(func(e *env, id string) (flows.SSHKey, error) { return e.svc.AddConnectedSSHKey(e.ctx, id, pk) })
			})
		}
		add(say("info.sshkey.paste", nil), "", func() tea.Cmd {
			s.pasting = true
			s.input.Focus()
			return nil
		})
	}
	for i, k := range s.keys {
		n, k := i+1, k
		if k.FromDirectory {
			continue // changed in the directory, not here
		}
		add(say("info.sshkey.remove", locale.Args{"Number": n}), "", func() tea.Cmd {
			e, id := s.e, s.sessionID
			s.confirm = &overviewConfirm{
				question: say("info.sshkey.remove.confirm", locale.Args{"Number": n, "Type": k.Name, "Fingerprint": k.Fingerprint}),
				run: func() tea.Cmd {
					seq := s.req.next(e)
					s.pending = "info.sshkey.removing"
					return func() tea.Msg {
						return sshKeyDone(e, id, seq, say("info.sshkey.removed", locale.Args{"Fingerprint": k.Fingerprint}),
							e.svc.RemoveSSHKey(e.ctx, id, k.ID))
					}
				}}
			return nil
		})
	}
	add(say("info.back", nil), "", func() tea.Cmd {
		if s.changed {
			return backToOverview(s.note)
		}
		return pop
	})
	if s.menu.cursor >= len(s.menu.items) {
		s.menu.cursor = 0
	}
}

func (s *sshKeys) view(width int) string {
	st, p := s.e.st, s.e.p
	if !s.loaded {
		return st.Muted.Render("⋯ " + p.T("info.sshkey.loading"))
	}
	var b strings.Builder
	b.WriteString(wrap(st.Body.Render(p.N("info.sshkey.intro", policy.MaxSSHKeys, nil)), width) + "\n\n")
	if len(s.keys) == 0 {
		b.WriteString(st.Muted.Render(p.T("info.sshkey.none")) + "\n")
	}
	for i, k := range s.keys {
		line := fmt.Sprintf("%d. %-9s %s %s", i+1, k.Name, k.Fingerprint, sanitize.String(k.Comment))
		if k.FromDirectory {
			line = fmt.Sprintf("%d. %-9s %s %s", i+1, k.Name, k.Fingerprint, p.T("info.sshkey.from_directory"))
		}
		b.WriteString(sanitize.Line(line, max(width-1, 1)) + "\n")
	}
	if s.own() >= policy.MaxSSHKeys {
		b.WriteString(wrap(st.Muted.Render(p.N("info.sshkey.at_most", policy.MaxSSHKeys, nil)), width) + "\n")
	}
	b.WriteString("\n")
	switch {
	case s.pasting:
		b.WriteString(st.Body.Render(p.T("info.sshkey.paste_prompt")) + "\n")
		placeholder(&s.input, p.T("info.sshkey.placeholder"))
		fitInput(&s.input, min(max(width-4, 8), 76))
		b.WriteString(s.input.View() + "\n")
	case s.confirm != nil:
		b.WriteString(wrap(st.Warning.Render(question(p, s.confirm.question)), width) + "\n")
	default:
		s.menu.label(p, s.labels)
		b.WriteString(s.menu.view(s.e, width) + "\n")
	}
	if s.pending != "" {
		b.WriteString("\n" + st.Muted.Render("⋯ "+p.T(s.pending)))
	}
	if note := s.note.in(p); note != "" {
		b.WriteString("\n" + wrap(st.Success.Render(note), width))
	}
	if s.err != "" {
		b.WriteString("\n" + wrap(st.Error.Render(s.err), width))
	}
	return b.String()
}
