package torchpt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Values the unpickler builds. Python ints are int64 (or *big.Int when they
// do not fit), floats float64, str string, bytes []byte, None pyNone,
// tuples pyTuple; lists and dicts are pointers so that memo references and
// in-place APPEND/SETITEM behave as in Python.
type (
	pyNone  struct{}
	pyTuple []any
	pyList  struct{ items []any }
	pyDict  struct {
		keys, vals []any
		index      map[string]int // position of string keys in keys/vals
	}
	// pyType is a resolved global that may only be used as a value
	// (a storage type, torch.Tensor), never called.
	pyType struct{ module, name string }
	// pyFunc is a resolved, allowed callable.
	pyFunc struct {
		module, name string
		call         func(args pyTuple) (any, error)
	}
	markObj struct{}
)

func newDict() *pyDict { return &pyDict{index: map[string]int{}} }

func (d *pyDict) set(k, v any) {
	if s, ok := k.(string); ok {
		if i, ok := d.index[s]; ok {
			d.vals[i] = v
			return
		}
		d.index[s] = len(d.keys)
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

func (d *pyDict) get(k string) (any, bool) {
	i, ok := d.index[k]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// unpickler is a restricted pickle virtual machine (protocols 0–5).
type unpickler struct {
	src   *source
	stack []any
	marks []int
	memo  map[int64]any
	// resolve maps a global to a value; it refuses what is not allowed.
	resolve func(module, name string) (any, error)
	// persistentLoad turns a persistent id into an object (torch storages).
	persistentLoad func(pid any) (any, error)
}

func typeName(v any) string {
	switch v.(type) {
	case pyNone:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case *tensorRef:
		return "tensor"
	case *storageRef:
		return "storage"
	case pyType:
		return "type"
	case *pyFunc:
		return "function"
	}
	return fmt.Sprintf("%T", v)
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	n := len(u.stack)
	if n == 0 || (len(u.marks) > 0 && u.marks[len(u.marks)-1] == n) {
		return nil, errors.New("pickle stack underflow")
	}
	v := u.stack[n-1]
	u.stack = u.stack[:n-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	n := len(u.stack)
	if n == 0 || (len(u.marks) > 0 && u.marks[len(u.marks)-1] == n) {
		return nil, errors.New("pickle stack underflow")
	}
	return u.stack[n-1], nil
}

// popMark returns the items pushed since the last MARK and removes them.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, errors.New("pickle MARK missing")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) readUint(n int64) (uint64, error) {
	b, err := u.src.read(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

func (u *unpickler) readBytes(n uint64) ([]byte, error) {
	if n > uint64(u.src.remaining()) {
		return nil, fmt.Errorf("length %d exceeds the %d bytes left", n, u.src.remaining())
	}
	b, err := u.src.read(int64(n))
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// load runs the machine until STOP and returns the result.
func (u *unpickler) load() (result any, err error) {
	u.stack, u.marks = u.stack[:0], u.marks[:0]
	if u.memo == nil {
		u.memo = map[int64]any{}
	}
	for {
		start := u.src.pos
		op, err := u.src.readByte()
		if err != nil {
			return nil, fmt.Errorf("pickle truncated: %w", err)
		}
		done, err := u.step(op)
		if err != nil {
			return nil, fmt.Errorf("pickle opcode 0x%02x at offset %d: %w", op, start, err)
		}
		if done {
			if len(u.stack) != 1 || len(u.marks) != 0 {
				return nil, fmt.Errorf("pickle STOP with %d values and %d marks on the stack", len(u.stack), len(u.marks))
			}
			return u.stack[0], nil
		}
	}
}

// step executes one opcode; it reports true at STOP.
func (u *unpickler) step(op byte) (bool, error) {
	switch op {
	case '.': // STOP
		return true, nil
	case 0x80: // PROTO
		p, err := u.src.readByte()
		if err != nil {
			return false, err
		}
		if p > 5 {
			return false, fmt.Errorf("unsupported pickle protocol %d", p)
		}
	case 0x95: // FRAME: a size hint only; data follows inline.
		if _, err := u.readUint(8); err != nil {
			return false, err
		}
	case '(': // MARK
		u.marks = append(u.marks, len(u.stack))
	case '0': // POP
		if len(u.marks) > 0 && u.marks[len(u.marks)-1] == len(u.stack) {
			u.marks = u.marks[:len(u.marks)-1] // Python pops the mark here
			return false, nil
		}
		_, err := u.pop()
		return false, err
	case '1': // POP_MARK
		_, err := u.popMark()
		return false, err
	case '2': // DUP
		v, err := u.top()
		if err != nil {
			return false, err
		}
		u.push(v)

	case 'N':
		u.push(pyNone{})
	case 0x88:
		u.push(true)
	case 0x89:
		u.push(false)
	case 'J': // BININT
		v, err := u.readUint(4)
		if err != nil {
			return false, err
		}
		u.push(int64(int32(uint32(v))))
	case 'K': // BININT1
		v, err := u.readUint(1)
		if err != nil {
			return false, err
		}
		u.push(int64(v))
	case 'M': // BININT2
		v, err := u.readUint(2)
		if err != nil {
			return false, err
		}
		u.push(int64(v))
	case 0x8a, 0x8b: // LONG1, LONG4
		w := int64(1)
		if op == 0x8b {
			w = 4
		}
		n, err := u.readUint(w)
		if err != nil {
			return false, err
		}
		b, err := u.readBytes(n)
		if err != nil {
			return false, err
		}
		u.push(decodeLong(b))
	case 'I', 'L': // INT, LONG (text)
		line, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		v, err := parseTextInt(string(line), op == 'I')
		if err != nil {
			return false, err
		}
		u.push(v)
	case 'G': // BINFLOAT
		b, err := u.src.read(8)
		if err != nil {
			return false, err
		}
		u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case 'F': // FLOAT
		line, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(string(line)), 64)
		if err != nil {
			return false, err
		}
		u.push(f)

	case 'X', 0x8c, 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
		w := map[byte]int64{'X': 4, 0x8c: 1, 0x8d: 8}[op]
		n, err := u.readUint(w)
		if err != nil {
			return false, err
		}
		b, err := u.readBytes(n)
		if err != nil {
			return false, err
		}
		u.push(string(b))
	case 'B', 'C', 0x8e, 0x96: // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
		w := map[byte]int64{'B': 4, 'C': 1, 0x8e: 8, 0x96: 8}[op]
		n, err := u.readUint(w)
		if err != nil {
			return false, err
		}
		b, err := u.readBytes(n)
		if err != nil {
			return false, err
		}
		u.push(b)
	case 'T', 'U': // BINSTRING, SHORT_BINSTRING (Python 2 str; decoded as latin-1 like encoding='latin1')
		w := int64(4)
		if op == 'U' {
			w = 1
		}
		n, err := u.readUint(w)
		if err != nil {
			return false, err
		}
		b, err := u.readBytes(n)
		if err != nil {
			return false, err
		}
		u.push(latin1(b))
	case 'S': // STRING (quoted repr)
		line, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		s, err := strconv.Unquote(pyQuoted(string(line)))
		if err != nil {
			return false, fmt.Errorf("STRING %q: %w", line, err)
		}
		u.push(s)
	case 'V': // UNICODE (raw-unicode-escape); only plain text is accepted
		line, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		u.push(string(line))

	case ')':
		u.push(pyTuple{})
	case 0x85, 0x86, 0x87: // TUPLE1..3
		n := int(op - 0x84)
		if len(u.stack) < n || (len(u.marks) > 0 && u.marks[len(u.marks)-1] > len(u.stack)-n) {
			return false, errors.New("pickle stack underflow")
		}
		t := append(pyTuple(nil), u.stack[len(u.stack)-n:]...)
		u.stack = u.stack[:len(u.stack)-n]
		u.push(t)
	case 't': // TUPLE
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		u.push(pyTuple(items))
	case ']':
		u.push(&pyList{})
	case 'l': // LIST
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		u.push(&pyList{items: items})
	case '}':
		u.push(newDict())
	case 'd': // DICT
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		d := newDict()
		if err := setItems(d, items); err != nil {
			return false, err
		}
		u.push(d)
	case 0x8f: // EMPTY_SET: sets are kept as lists
		u.push(&pyList{})
	case 0x91: // FROZENSET
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		u.push(pyTuple(items))
	case 'a': // APPEND
		v, err := u.pop()
		if err != nil {
			return false, err
		}
		return false, u.appendTo([]any{v})
	case 'e', 0x90: // APPENDS, ADDITEMS
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		return false, u.appendTo(items)
	case 's': // SETITEM
		v, err := u.pop()
		if err != nil {
			return false, err
		}
		k, err := u.pop()
		if err != nil {
			return false, err
		}
		return false, u.setItemsOnTop([]any{k, v})
	case 'u': // SETITEMS
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		return false, u.setItemsOnTop(items)

	case 'p': // PUT
		line, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		i, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil {
			return false, err
		}
		return false, u.put(i)
	case 'q', 'r': // BINPUT, LONG_BINPUT
		w := int64(1)
		if op == 'r' {
			w = 4
		}
		i, err := u.readUint(w)
		if err != nil {
			return false, err
		}
		return false, u.put(int64(i))
	case 0x94: // MEMOIZE
		return false, u.put(int64(len(u.memo)))
	case 'g': // GET
		line, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		i, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil {
			return false, err
		}
		return false, u.get(i)
	case 'h', 'j': // BINGET, LONG_BINGET
		w := int64(1)
		if op == 'j' {
			w = 4
		}
		i, err := u.readUint(w)
		if err != nil {
			return false, err
		}
		return false, u.get(int64(i))

	case 'c': // GLOBAL
		mod, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		name, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		v, err := u.resolve(string(mod), string(name))
		if err != nil {
			return false, err
		}
		u.push(v)
	case 0x93: // STACK_GLOBAL
		name, err := u.pop()
		if err != nil {
			return false, err
		}
		mod, err := u.pop()
		if err != nil {
			return false, err
		}
		ms, ok1 := mod.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return false, errors.New("STACK_GLOBAL needs two strings")
		}
		v, err := u.resolve(ms, ns)
		if err != nil {
			return false, err
		}
		u.push(v)
	case 'R': // REDUCE
		args, err := u.pop()
		if err != nil {
			return false, err
		}
		fn, err := u.pop()
		if err != nil {
			return false, err
		}
		v, err := call(fn, args)
		if err != nil {
			return false, err
		}
		u.push(v)
	case 0x81: // NEWOBJ
		args, err := u.pop()
		if err != nil {
			return false, err
		}
		cls, err := u.pop()
		if err != nil {
			return false, err
		}
		v, err := call(cls, args)
		if err != nil {
			return false, err
		}
		u.push(v)
	case 0x92: // NEWOBJ_EX
		kwargs, err := u.pop()
		if err != nil {
			return false, err
		}
		args, err := u.pop()
		if err != nil {
			return false, err
		}
		cls, err := u.pop()
		if err != nil {
			return false, err
		}
		if d, ok := kwargs.(*pyDict); !ok || len(d.keys) != 0 {
			return false, errors.New("NEWOBJ_EX with keyword arguments")
		}
		v, err := call(cls, args)
		if err != nil {
			return false, err
		}
		u.push(v)
	case 'o': // OBJ
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		if len(items) == 0 {
			return false, errors.New("OBJ without a class")
		}
		v, err := call(items[0], pyTuple(items[1:]))
		if err != nil {
			return false, err
		}
		u.push(v)
	case 'i': // INST
		mod, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		name, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		cls, err := u.resolve(string(mod), string(name))
		if err != nil {
			return false, err
		}
		items, err := u.popMark()
		if err != nil {
			return false, err
		}
		v, err := call(cls, pyTuple(items))
		if err != nil {
			return false, err
		}
		u.push(v)
	case 'b': // BUILD
		state, err := u.pop()
		if err != nil {
			return false, err
		}
		obj, err := u.top()
		if err != nil {
			return false, err
		}
		return false, build(obj, state)

	case 'P': // PERSID
		line, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		return false, u.persist(string(line))
	case 'Q': // BINPERSID
		pid, err := u.pop()
		if err != nil {
			return false, err
		}
		return false, u.persist(pid)

	case 0x98: // READONLY_BUFFER: no-op on our values
		_, err := u.top()
		return false, err
	case 0x82, 0x83, 0x84:
		return false, fmt.Errorf("%w: pickle extension registry (EXT opcodes)", ErrUnsupported)
	case 0x97:
		return false, fmt.Errorf("%w: out-of-band pickle buffers (NEXT_BUFFER)", ErrUnsupported)
	default:
		return false, fmt.Errorf("unknown pickle opcode")
	}
	return false, nil
}

func (u *unpickler) put(i int64) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	u.memo[i] = v
	return nil
}

func (u *unpickler) get(i int64) error {
	v, ok := u.memo[i]
	if !ok {
		return fmt.Errorf("memo key %d not set", i)
	}
	u.push(v)
	return nil
}

func (u *unpickler) persist(pid any) error {
	if u.persistentLoad == nil {
		return errors.New("persistent id without a loader")
	}
	v, err := u.persistentLoad(pid)
	if err != nil {
		return err
	}
	u.push(v)
	return nil
}

func (u *unpickler) appendTo(items []any) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	l, ok := t.(*pyList)
	if !ok {
		return fmt.Errorf("APPEND to a %s", typeName(t))
	}
	l.items = append(l.items, items...)
	return nil
}

func (u *unpickler) setItemsOnTop(items []any) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	d, ok := t.(*pyDict)
	if !ok {
		return fmt.Errorf("SETITEM on a %s", typeName(t))
	}
	return setItems(d, items)
}

func setItems(d *pyDict, items []any) error {
	if len(items)%2 != 0 {
		return errors.New("odd number of items for a dict")
	}
	for i := 0; i < len(items); i += 2 {
		switch items[i].(type) {
		case *pyList, *pyDict:
			return fmt.Errorf("unhashable dict key of type %s", typeName(items[i]))
		}
		d.set(items[i], items[i+1])
	}
	return nil
}

// call applies an allowed callable; anything else cannot be called.
func call(fn, args any) (any, error) {
	f, ok := fn.(*pyFunc)
	if !ok {
		return nil, fmt.Errorf("cannot call a %s", typeName(fn))
	}
	t, ok := args.(pyTuple)
	if !ok {
		return nil, fmt.Errorf("%s.%s: arguments are a %s, not a tuple", f.module, f.name, typeName(args))
	}
	v, err := f.call(t)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w", f.module, f.name, err)
	}
	return v, nil
}

// build applies BUILD state. Only dicts (an OrderedDict's _metadata) and
// tensors (Parameter/_rebuild_from_type_v2 state) receive state, and the
// state is validated and dropped: it never runs code in Python either.
func build(obj, state any) error {
	switch obj.(type) {
	case *pyDict, *tensorRef:
	default:
		return fmt.Errorf("BUILD on a %s", typeName(obj))
	}
	switch state.(type) {
	case *pyDict, pyTuple, pyNone:
		return nil
	}
	return fmt.Errorf("BUILD with a %s state", typeName(state))
}

// decodeLong decodes a little-endian two's-complement integer.
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		shift := uint(64 - 8*len(b))
		return int64(v<<shift) >> shift
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	n := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if n.IsInt64() {
		return n.Int64()
	}
	return n
}

func parseTextInt(s string, isInt bool) (any, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "L")
	if isInt {
		switch s {
		case "00":
			return false, nil
		case "01":
			return true, nil
		}
	}
	if len(s) > 4096 {
		return nil, errors.New("integer literal too long")
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("bad integer %q", s)
	}
	if n.IsInt64() {
		return n.Int64(), nil
	}
	return n, nil
}

// pyQuoted turns a Python 'single-quoted' repr into a Go-quotable string.
func pyQuoted(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		inner := strings.ReplaceAll(s[1:len(s)-1], `\'`, `'`)
		return `"` + strings.ReplaceAll(inner, `"`, `\"`) + `"`
	}
	return s
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
