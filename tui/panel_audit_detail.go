package tui

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sspr-kiosk/sspr/flows/audit"
	"github.com/sspr-kiosk/sspr/flows/locale"
	"github.com/sspr-kiosk/sspr/tui/components"
	"github.com/sspr-kiosk/sspr/tui/sanitize"
)

// auditDetail shows one audit entry whole: a changed policy value or a long
// reason does not fit a table row at any width. Every field but the time
// and the event came from people or the network and is sanitised; long
// values wrap under their label, and an entry taller than the window
// scrolls.
type auditDetail struct {
	e      *env
	entry  audit.Entry
	offset int
	// shown and total are the lines of the last view: how far it scrolls.
	shown, total int
}

// auditLabelWidth is the narrowest column the values start at; a
// language with longer labels widens it.
const auditLabelWidth = 8

// lines are the entry's lines at width.
func (d *auditDetail) lines(width int) []string {
	st, e, p := d.e.st, d.entry, d.e.p
	// The labels' catalogue IDs, to measure the widest.
	labels := []string{"admin.audit.detail.time", "admin.audit.detail.actor", "admin.audit.detail.source",
		"admin.audit.detail.detail", "admin.audit.detail.hash", "admin.audit.detail.prev"}
	labelW := auditLabelWidth
	for _, id := range labels {
		labelW = max(labelW, ansi.StringWidth(p.T(id))+1)
	}
	var out []string
	field := func(id, value string) {
		text := st.Input.Label.Render(panelPad(p.T(id), labelW)) +
			components.WrapValue(st.Body.Render(sanitize.String(value)), width, labelW)
		out = append(out, strings.Split(text, "\n")...)
	}
	out = append(out, strings.Split(wrap(st.Subtitle.Render(p.F("admin.audit.detail.title",
		locale.Args{"ID": strconv.FormatInt(e.ID, 10), "Event": string(e.Event)})), width), "\n")...)
	// A fixed layout to the second: entries are compared side by side.
	field("admin.audit.detail.time", e.At.UTC().Format(p.T("admin.format.second_utc")))
	target := e.Target
	if target == "" {
		target = "—"
	}
	field("admin.audit.detail.actor", p.F("admin.audit.detail.actor_target", locale.Args{"Actor": e.Actor, "Target": target}))
	field("admin.audit.detail.source", p.F("admin.audit.detail.source_outcome", locale.Args{"Source": e.Source, "Outcome": e.Outcome}))
	if e.Detail != "" {
		field("admin.audit.detail.detail", e.Detail)
	}
	field("admin.audit.detail.hash", e.Hash)
	field("admin.audit.detail.prev", e.PrevHash)
	return out
}

// view draws as many lines as the window has room for (the tab bar above
// takes two), from the scroll offset, and where the rest is.
func (d *auditDetail) view(width int) string {
	lines := d.lines(width)
	rows := len(lines)
	if h := d.e.bodyHeight - 2; h > 0 && h < rows {
		rows = max(h-1, 1) // a line says where the rest is
	}
	d.total, d.shown = len(lines), rows
	d.offset = min(max(d.offset, 0), len(lines)-rows)
	out := strings.Join(lines[d.offset:d.offset+rows], "\n")
	if rows < len(lines) {
		out += "\n" + d.e.st.Muted.Render(sanitize.Line(d.e.p.F("admin.audit.detail.lines", locale.Args{
			"From": d.e.p.Number(d.offset + 1), "To": d.e.p.Number(d.offset + rows), "Total": d.e.p.Number(len(lines))}), width))
	}
	return out
}

// onKey scrolls, and reports whether the key closes the entry.
func (d *auditDetail) onKey(msg tea.KeyPressMsg) (closed bool) {
	k := d.e.keys
	switch {
	case key.Matches(msg, k.Back), key.Matches(msg, k.Select):
		return true
	case key.Matches(msg, k.Up):
		d.offset--
	case key.Matches(msg, k.Down):
		d.offset++
	case key.Matches(msg, k.PageUp):
		d.offset -= max(d.shown-1, 1)
	case key.Matches(msg, k.PageDown):
		d.offset += max(d.shown-1, 1)
	}
	d.offset = min(max(d.offset, 0), max(d.total-d.shown, 0))
	return false
}

func (d *auditDetail) help() []key.Binding {
	k := d.e.keys
	back := k.Back
	back.SetHelp("esc", "key.back_to_log")
	if d.shown >= d.total {
		return []key.Binding{back}
	}
	up, down := k.Up, k.Down
	up.SetHelp(up.Help().Key, "key.scroll_up")
	down.SetHelp(down.Help().Key, "key.scroll_down")
	return []key.Binding{back, up, down, k.PageUp, k.PageDown}
}
