package portal

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"
)

// FuzzKeyboardHandsOnEveryByte: whatever the client sends, however it is
// split into reads, and whenever programs are retired and replaced, every
// byte reaches exactly one program, in order.
func FuzzKeyboardHandsOnEveryByte(f *testing.F) {
	f.Add([]byte("1alice\r\x1b[A\x1b[B\t\r"), []byte{3, 1, 7}, []byte{2, 5})
	f.Add([]byte("\x1b]11;rgb:0000/0000/0000\x07q"), []byte{1}, []byte{1, 1, 1})
	f.Add(bytes.Repeat([]byte("x"), 600), []byte{255, 200}, []byte{0, 9, 100})
	f.Fuzz(func(t *testing.T, input, splits, reads []byte) {
		if len(input) == 0 {
			return
		}
		pr, pw := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		k := newKeyboard(ctx, pr)
		go func() {
			// The client's writes, split as the fuzzer says.
			rest := input
			for i := 0; len(rest) > 0; i++ {
				n := len(rest)
				if len(splits) > 0 {
					n = min(int(splits[i%len(splits)])+1, len(rest))
				}
				_, _ = pw.Write(rest[:n])
				rest = rest[n:]
			}
			_ = pw.Close()
		}()

		var got []byte
		buf := make([]byte, 64)
		for program := 0; ; program++ {
			in := k.attach()
			// Each program reads a few times with buffers of the fuzzer's
			// sizes, then is retired; the last one reads to the end.
			want := 1 + program%3
			if len(reads) > 0 {
				want = int(reads[program%len(reads)]) % 5
			}
			ended := false
			for r := 0; r < want || program > 64; r++ {
				size := 1 + (program+r)%len(buf)
				n, err := in.Read(buf[:size])
				got = append(got, buf[:n]...)
				if err == io.EOF {
					ended = true
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			in.retire(time.Time{})
			if ended {
				break
			}
		}
		if !bytes.Equal(got, input) {
			t.Fatalf("programs read %q; the client sent %q", got, input)
		}
	})
}
