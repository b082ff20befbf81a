package components

import "slices"

// Column is one column of a table laid out by FitColumns.
type Column struct {
	// Min is the narrowest width at which the column is still of use.
	Min int
	// Drop is 0 for a column always shown; a table too narrow for every
	// column drops the others, the highest Drop first.
	Drop int
	// From, when set, shows the column only in a table at least this wide:
	// for a column worth less than the room it would take from the others.
	From int
}

// Grow is one step of sharing out the room a table has beyond its
// columns' minimum widths: column Col widens up to To cells, or takes all
// the room left when To is 0.
type Grow struct{ Col, To int }

// FitColumns lays out a table width cells wide with gap cells between
// columns: it leaves out the columns whose From is wider than the table,
// and drops columns, the highest Drop first, until the rest fit at
// their minimum width, then shares out the room left in the order of
// grows. It returns each column's width, 0 for a dropped one. The columns
// a person needs (a user's state, an entry's actor and outcome) are given
// Drop 0, so a narrow window loses the less important ones instead.
func FitColumns(width, gap int, cols []Column, grows []Grow) []int {
	w := make([]int, len(cols))
	for i, c := range cols {
		if c.From <= width {
			w[i] = c.Min
		}
	}
	used := func() int {
		n, shown := 0, 0
		for _, x := range w {
			if x > 0 {
				n += x
				shown++
			}
		}
		return n + gap*max(shown-1, 0)
	}
	order := make([]int, 0, len(cols))
	for i, c := range cols {
		if c.Drop > 0 {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cols[b].Drop - cols[a].Drop })
	for _, i := range order {
		if used() <= width {
			break
		}
		w[i] = 0
	}
	room := max(width-used(), 0)
	for _, g := range grows {
		if g.Col < 0 || g.Col >= len(w) || w[g.Col] == 0 {
			continue
		}
		add := room
		if g.To > 0 {
			add = min(max(g.To-w[g.Col], 0), room)
		}
		w[g.Col] += add
		room -= add
	}
	return w
}
