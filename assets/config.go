package assets

import (
	"bytes"
	_ "embed"
)

//go:embed config.yaml
var configTemplate []byte

// ConfigTemplate returns the commented config.yaml that sspr writes into a
// new data folder; every key in it is set to its default. The slice is a
// fresh copy.
func ConfigTemplate() []byte {
	return bytes.Clone(configTemplate)
}
