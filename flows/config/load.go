package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The file and the environment go through one parser (setValue), so a value
// means the same thing wherever it is written.

var durationType = reflect.TypeOf(time.Duration(0))

// applyYAML overlays the YAML document in body on cfg. It walks the node
// tree itself, instead of decoding into the struct, so that every error can
// name the dotted key and its line: an unknown key, a duplicate key, a value
// of the wrong shape or type.
func applyYAML(cfg *Config, body []byte, path string) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, path, oneLine(err.Error()))
	}
	if len(doc.Content) == 0 {
		return nil // empty, or only comments
	}
	root := doc.Content[0]
	if isNull(root) {
		return nil
	}
	return applyMapping(reflect.ValueOf(cfg).Elem(), root, "", path)
}

func applyMapping(v reflect.Value, n *yaml.Node, prefix, path string) error {
	where := func(line int) string { return fmt.Sprintf("%s line %d", path, line) }
	if n.Kind != yaml.MappingNode {
		what := "the file"
		if prefix != "" {
			what = strings.TrimSuffix(prefix, ".")
		}
		return fmt.Errorf("%w: %s: %s must be a mapping of keys to values", ErrInvalid, where(n.Line), what)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := prefix + k.Value
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("%w: %s: keys must be plain names", ErrInvalid, where(k.Line))
		}
		if seen[k.Value] {
			return fmt.Errorf("%w: %s: key %q appears twice", ErrInvalid, where(k.Line), key)
		}
		seen[k.Value] = true
		f, ok := fieldByYAML(v, k.Value)
		if !ok {
			if env := envOnly(v, key); env != "" {
				return fmt.Errorf("%w: %s: %q can only be set in the environment, as %s%s", ErrInvalid,
					where(k.Line), key, EnvPrefix, env)
			}
			return fmt.Errorf("%w: %s: unknown key %q", ErrInvalid, where(k.Line), key)
		}
		if f.Kind() == reflect.Struct && f.Type() != durationType {
			if isNull(val) {
				continue // a section with every key commented out
			}
			if err := applyMapping(f, val, key+".", path); err != nil {
				return err
			}
			continue
		}
		if val.Kind == yaml.AliasNode {
			val = val.Alias
		}
		if f.Kind() == reflect.Slice {
			if err := applySequence(f, val, key, path); err != nil {
				return err
			}
			continue
		}
		if val.Kind != yaml.ScalarNode {
			return fmt.Errorf("%w: %s: %s must be a single value", ErrInvalid, where(val.Line), key)
		}
		s := val.Value
		if isNull(val) {
			if f.Kind() != reflect.String {
				return fmt.Errorf("%w: %s: %s needs a value", ErrInvalid, where(val.Line), key)
			}
			s = ""
		}
		if err := setValue(f, s); err != nil {
			return fmt.Errorf("%w: %s: %s: %s", ErrInvalid, where(val.Line), key, err.Error())
		}
	}
	return nil
}

// applySequence sets the slice f from a YAML list: of plain values, or of
// mappings for a slice of sections, each checked as a section is.
func applySequence(f reflect.Value, n *yaml.Node, key, path string) error {
	if isNull(n) || (n.Kind == yaml.SequenceNode && len(n.Content) == 0) {
		f.Set(reflect.Zero(f.Type()))
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("%w: %s line %d: %s must be a list", ErrInvalid, path, n.Line, key)
	}
	out := reflect.MakeSlice(f.Type(), 0, len(n.Content))
	for i, item := range n.Content {
		elem := reflect.New(f.Type().Elem()).Elem()
		itemKey := fmt.Sprintf("%s[%d]", key, i)
		if item.Kind == yaml.AliasNode {
			item = item.Alias
		}
		switch {
		case elem.Kind() == reflect.Struct:
			if err := applyMapping(elem, item, itemKey+".", path); err != nil {
				return err
			}
		case item.Kind != yaml.ScalarNode || isNull(item):
			return fmt.Errorf("%w: %s line %d: %s must be a single value", ErrInvalid, path, item.Line, itemKey)
		default:
			if err := setValue(elem, item.Value); err != nil {
				return fmt.Errorf("%w: %s line %d: %s: %s", ErrInvalid, path, item.Line, itemKey, err.Error())
			}
		}
		out = reflect.Append(out, elem)
	}
	f.Set(out)
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// fieldByYAML finds the field of struct v whose yaml tag is name; fields
// tagged "-" cannot be set from the file.
func fieldByYAML(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" && tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// envOnly returns the env name of the environment-only field of struct v
// that the dotted key would name, if there is one, so the error can say
// where the setting goes instead.
func envOnly(v reflect.Value, key string) string {
	t := v.Type()
	want := strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("yaml") == "-" && f.Tag.Get("env") == want {
			return want
		}
	}
	return ""
}

// applyEnv sets every field whose SSPR_<env tag> is present in env,
// recursing into sections.
func applyEnv(cfg *Config, env map[string]string) error {
	return walkEnv(reflect.ValueOf(cfg).Elem(), env)
}

func walkEnv(v reflect.Value, env map[string]string) error {
	t := v.Type()
	for i := range t.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != durationType {
			if err := walkEnv(f, env); err != nil {
				return err
			}
			continue
		}
		name := t.Field(i).Tag.Get("env")
		if name == "" {
			continue
		}
		s, ok := env[EnvPrefix+name]
		if !ok {
			continue
		}
		if f.Kind() == reflect.Slice {
			// A list in the environment is written as YAML, the file's
			// language: ["/usr/bin/check", "--strict"].
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
				return fmt.Errorf("%w: %s%s: not a YAML list: %s", ErrInvalid, EnvPrefix, name, oneLine(err.Error()))
			}
			if len(doc.Content) == 0 {
				f.Set(reflect.Zero(f.Type()))
				continue
			}
			if err := applySequence(f, doc.Content[0], EnvPrefix+name, "the environment"); err != nil {
				return err
			}
			continue
		}
		if err := setValue(f, s); err != nil {
			return fmt.Errorf("%w: %s%s: %s", ErrInvalid, EnvPrefix, name, err.Error())
		}
	}
	return nil
}

// setValue parses s into f: string, bool, signed and unsigned integers
// (range-checked), float64, and time.Duration (a Go duration string).
func setValue(f reflect.Value, s string) error {
	if f.Type() == durationType {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a duration (write it like 90s, 5m or 1h30m)", s)
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || f.OverflowInt(n) {
			return fmt.Errorf("%q is not a whole number in range", s)
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil || f.OverflowUint(n) {
			return fmt.Errorf("%q is not a whole number from 0 to %d", s, maxUint(f.Type().Bits()))
		}
		f.SetUint(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%q is not a number", s)
		}
		f.SetFloat(x)
	default:
		// Only reachable by adding a field of a new type to Config.
		return fmt.Errorf("settings of type %s are not supported", f.Type())
	}
	return nil
}

func maxUint(bits int) uint64 {
	if bits >= 64 {
		return math.MaxUint64
	}
	return 1<<bits - 1
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
