package flows

// Count writes a count with its noun in the right number, thousands
// separated: "1 row", "0 rows", "1,204 rows". Every count a person reads,
// on a screen, in the CLI or in the audit log, goes through it: "1
// self-service resets" reads as a mistake.
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}
