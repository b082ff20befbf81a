package flows

import (
	"github.com/sspr-kiosk/sspr/flows/locale"
)

// QuestionIDs returns the catalogue's security questions as message IDs,
// in the order registration offers them. They were chosen to be stable
// over a lifetime, memorable to the person, and hard to find on social
// media or in public records (so no birthplace, mother's maiden name,
// school, street or pet names people post about).
func QuestionIDs() []string {
	return []string{
		"question.first_stuffed_animal",
		"question.first_concert",
		"question.first_car",
		"question.best_friend_first_pet",
		"question.first_dish",
		"question.first_book",
		"question.childhood_nickname",
		"question.favourite_teacher",
		"question.first_video_game",
		"question.best_friend_street",
		"question.first_boss",
		"question.first_kiss",
		"question.imaginary_friend",
		"question.first_purchase",
		"question.first_hotel",
		"question.childhood_camp",
		"question.first_song",
		"question.favourite_toy",
		"question.grandmother_name",
		"question.babysitter",
		"question.cartoon_hero",
		"question.first_roommate",
		"question.first_friend_nickname",
		"question.first_film",
		"question.family_doctor",
		"question.first_swim",
		"question.first_date_restaurant",
		"question.childhood_neighbour",
	}
}

// Questions returns the catalogue's security questions in p's language,
// in the order registration offers them.
func Questions(p *locale.Printer) []string {
	ids := QuestionIDs()
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = p.T(id)
	}
	return out
}

// Question writes a stored security question in p's language. A question
// from the catalogue is stored as its source (English) text, so that it
// reads in whatever language the person uses when they answer; a question
// the person wrote themselves is theirs, and stays as written.
func Question(p *locale.Printer, stored string) string {
	if id, ok := questionID(stored); ok {
		return p.T(id)
	}
	return stored
}

// sourceQuestion is the text a question is stored as: a catalogue question
// in any language becomes its source text, so it can be shown in another
// language later; any other question is kept as written.
func sourceQuestion(q string) string { return sourceQuestionIn(locale.Embedded(), q) }

// sourceQuestionIn is sourceQuestion for the languages of cat.
func sourceQuestionIn(cat *locale.Catalogue, q string) string {
	q = NormaliseQuestion(q)
	for _, l := range cat.Languages() {
		p := cat.Printer(l.Code)
		for _, id := range QuestionIDs() {
			if p.Has(id) && p.T(id) == q {
				return cat.Source().T(id)
			}
		}
	}
	return q
}

// questionID finds the catalogue question whose source text is stored.
func questionID(stored string) (string, bool) {
	src := locale.Embedded().Source()
	stored = NormaliseQuestion(stored)
	for _, id := range QuestionIDs() {
		if src.T(id) == stored {
			return id, true
		}
	}
	return "", false
}
