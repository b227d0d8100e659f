package torchpt

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// genPickle builds a valid-ish protocol-4 pickle from prog, one action per
// byte (arguments from the bytes that follow): values and containers,
// marks, memo traffic, allowed and forbidden globals, calls, torch
// tensors, and the hostile shapes that once crashed the reader — nesting
// runs (thousands of TUPLE1 or APPEND) and opcode floods (up to a million
// repeats). Byte-level fuzzing rarely gets past a pickle's first bad
// opcode; this reaches deep into the machine with every input.
func genPickle(prog []byte) []byte {
	p := &pk{}
	p.op(0x80, 4)
	next := func() int {
		if len(prog) == 0 {
			return 0
		}
		b := prog[0]
		prog = prog[1:]
		return int(b)
	}
	for len(prog) > 0 {
		switch next() % 24 {
		case 0:
			p.op('N')
		case 1:
			p.int(int32(next() - 100))
		case 2:
			p.str(string(rune('a' + next()%26)))
		case 3:
			p.op('(')
		case 4:
			p.op('t')
		case 5:
			p.op('l')
		case 6:
			p.op('d')
		case 7:
			p.op(0x85 + byte(next()%3)) // TUPLE1..3
		case 8:
			p.op(']')
		case 9:
			p.op('}')
		case 10:
			p.op('a')
		case 11:
			p.op('s')
		case 12:
			p.op('e')
		case 13:
			p.op('u')
		case 14:
			p.op('q', byte(next()%8)) // BINPUT
		case 15:
			p.op('h', byte(next()%8)) // BINGET
		case 16:
			p.op(0x94) // MEMOIZE
		case 17:
			p.op('2') // DUP
		case 18: // an allowed or a forbidden global, maybe called
			g := [][2]string{{"collections", "OrderedDict"}, {"torch", "Size"}, {"torch", "FloatStorage"},
				{"torch._utils", "_rebuild_tensor_v2"}, {"_codecs", "encode"}, {"os", "system"}}[next()%6]
			p.global(g[0], g[1])
			if next()%2 == 0 {
				p.op(')', 'R')
			}
		case 19: // a tensor view of storage "0" (16 floats)
			n := int32(next() % 20)
			p.tensor(16, int32(next()%20), []int32{n}, []int32{int32(next() % 3)})
		case 20: // nesting run
			n := (next() + 1) * 64
			p.Write(bytes.Repeat([]byte{0x85}, n))
		case 21: // opcode flood
			ops := []byte{'N', ')', ']', '}', 0x94, '2', '('}
			op := ops[next()%len(ops)]
			p.Write(bytes.Repeat([]byte{op}, (next()+1)*(next()+1)*16))
		case 22: // self-appends
			p.op(']', 'q', 7)
			for range next() * 4 {
				p.op('h', 7, 'a')
			}
		case 23:
			p.op('0') // POP
		}
	}
	return p.op('.').Bytes()
}

// FuzzPickle runs generated pickles (see genPickle) as a zip checkpoint's
// data.pkl, with one 16-float storage, through the reader without its
// panic guard. Any panic, and any accepted tensor whose data disagrees with
// its shape, is a bug. Short runs are part of make test; make fuzz runs it
// longer.
func FuzzPickle(f *testing.F) {
	f.Add([]byte{9, 2, 3, 19, 1, 4, 1, 11})                             // {'x': tensor}
	f.Add([]byte{9, 20, 255, 0, 0, 11})                                 // deep tuple key
	f.Add([]byte{8, 21, 3, 255, 255, 10})                               // dict flood
	f.Add([]byte{0, 21, 4, 255, 255})                                   // memo flood
	f.Add([]byte{22, 200, 9, 2, 0, 17, 11})                             // self-containing list
	f.Add([]byte{18, 0, 0, 18, 5, 0, 18, 3, 1})                         // globals and calls
	f.Add([]byte{3, 3, 3, 0, 4, 5, 6, 12, 13, 14, 1, 15, 1, 16, 23, 7}) // mixed
	storage := make([]byte, 64)
	for i := range 16 {
		binary.LittleEndian.PutUint32(storage[4*i:], uint32(i)<<20)
	}
	f.Fuzz(func(t *testing.T, prog []byte) {
		file := zipCheckpoint(t, genPickle(prog), storage, "")
		m, err := read(bytes.NewReader(file), int64(len(file)), Limits{})
		if err != nil {
			if m != nil {
				t.Fatal("map returned with an error")
			}
			if len(err.Error()) > 4096 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		for k, v := range m {
			if len(v.Data) != numel(v.Shape) {
				t.Fatalf("%s: %d values for shape %v", k, len(v.Data), v.Shape)
			}
		}
	})
}

// TestGenPickleReachesTensors: the generator's first seed is a real
// checkpoint, so fuzzing starts from accepted inputs.
func TestGenPickleReachesTensors(t *testing.T) {
	storage := make([]byte, 64)
	file := zipCheckpoint(t, genPickle([]byte{9, 2, 3, 19, 1, 4, 1, 11}), storage, "")
	m, err := readBytes(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || len(m["d"].Data) != 1 {
		t.Fatalf("got %v", m)
	}
}
