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
	pyList  struct {
		items []any
		depth int // nesting depth as built (see maxDepth)
	}
	pyDict struct {
		keys, vals []any
		index      map[string]int // position of string keys in keys/vals; nil until the first
		depth      int            // nesting depth as built (see maxDepth)
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

func newDict() *pyDict { return &pyDict{} }

func (d *pyDict) set(k, v any) {
	if s, ok := k.(string); ok {
		if i, ok := d.index[s]; ok {
			d.vals[i] = v
			return
		}
		if d.index == nil {
			d.index = map[string]int{}
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

// Limits on what one pickle may build. A pickle is a program: without
// them a few kilobytes of opcodes (a million nested tuples, millions of
// empty dicts) would cost gigabytes or a stack overflow. Real state dicts
// stay far below each: a few levels of nesting, a SETITEMS batch of at
// most 1000 pairs on the stack, a memo entry or two per object.
const (
	// maxDepth bounds container nesting (a tuple in a list in a dict is
	// depth 3), as built: appending to a list already nested elsewhere
	// is not propagated to its parents, so nothing may recurse over the
	// values; no code in this package does.
	maxDepth = 100
	// maxStack bounds the values on the pickle stack at once.
	maxStack = 1 << 16
	// maxMemo bounds the memo's entries.
	maxMemo = 1 << 18
	// maxBuilt bounds the approximate bytes of the values a pickle
	// builds (strings, containers and their growth, memo entries).
	maxBuilt = 128 << 20
)

// memoEntry is a memoised value and its nesting depth.
type memoEntry struct {
	v     any
	depth int
}

// unpickler is a restricted pickle virtual machine (protocols 0–5).
type unpickler struct {
	src    *source
	stack  []any
	depths []int // nesting depth of each stack value (0 for scalars)
	marks  []int
	memo   map[int64]memoEntry
	built  int64 // approximate bytes built so far (see maxBuilt)
	err    error // first limit exceeded by push or charge; load reports it
	// resolve maps a global to a value; it refuses what is not allowed.
	resolve func(module, name string) (any, error)
	// persistentLoad turns a persistent id into an object (torch storages).
	persistentLoad func(pid any) (any, error)
}

// Errors for the limits above, wrapped with what was exceeded.
var (
	errTooDeep  = fmt.Errorf("containers nested deeper than %d", maxDepth)
	errTooLarge = errors.New("pickle builds too much")
)

// depthOf is v's current nesting depth: lists and dicts carry theirs,
// tuples are given by the caller (d), everything else is a leaf.
func depthOf(v any, d int) int {
	switch c := v.(type) {
	case *pyList:
		return c.depth
	case *pyDict:
		return c.depth
	case pyTuple:
		return d
	}
	return 0
}

// charge adds n approximate bytes to what the pickle has built.
func (u *unpickler) charge(n int64) {
	u.built += n
	if u.built > maxBuilt && u.err == nil {
		u.err = fmt.Errorf("%w: more than %d MiB of values", errTooLarge, maxBuilt>>20)
	}
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

// describe formats a pickled value for an error message without
// recursing: scalars in full (strings cut to 64 bytes), containers as their
// type and length. fmt's %v would walk a hostile million-deep tuple and
// overflow the stack, or echo megabytes.
func describe(v any) string {
	const maxText = 32
	switch x := v.(type) {
	case pyNone:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case *big.Int:
		if x.BitLen() > 64 {
			return fmt.Sprintf("an int of %d bits", x.BitLen())
		}
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		if len(x) > maxText {
			return strconv.Quote(x[:maxText]) + fmt.Sprintf("… (%d bytes)", len(x))
		}
		return strconv.Quote(x)
	case []byte:
		return fmt.Sprintf("bytes of length %d", len(x))
	case pyTuple:
		return fmt.Sprintf("a tuple of %d items", len(x))
	case *pyList:
		return fmt.Sprintf("a list of %d items", len(x.items))
	case *pyDict:
		return fmt.Sprintf("a dict of %d items", len(x.keys))
	case pyType:
		return x.module + "." + x.name
	case *pyFunc:
		return x.module + "." + x.name
	}
	return "a " + typeName(v)
}

// push puts v of nesting depth d on the stack. Exceeding a limit records
// u.err (load returns it after the opcode) and drops v.
func (u *unpickler) push(v any, d int) {
	switch {
	case u.err != nil:
		return
	case len(u.stack) >= maxStack:
		u.err = fmt.Errorf("%w: more than %d values on the stack", errTooLarge, maxStack)
		return
	case d > maxDepth:
		u.err = errTooDeep
		return
	}
	u.stack = append(u.stack, v)
	u.depths = append(u.depths, d)
}

// pushLeaf pushes a scalar (or a storage, tensor, type or function).
func (u *unpickler) pushLeaf(v any) { u.push(v, 0) }

func (u *unpickler) underflow(n int) bool {
	return len(u.stack) < n || (len(u.marks) > 0 && u.marks[len(u.marks)-1] > len(u.stack)-n)
}

// popD removes the top value and returns it with its depth.
func (u *unpickler) popD() (any, int, error) {
	if u.underflow(1) {
		return nil, 0, errors.New("pickle stack underflow")
	}
	n := len(u.stack)
	v, d := u.stack[n-1], u.depths[n-1]
	u.stack, u.depths = u.stack[:n-1], u.depths[:n-1]
	return v, depthOf(v, d), nil
}

func (u *unpickler) pop() (any, error) {
	v, _, err := u.popD()
	return v, err
}

func (u *unpickler) topD() (any, int, error) {
	if u.underflow(1) {
		return nil, 0, errors.New("pickle stack underflow")
	}
	n := len(u.stack)
	return u.stack[n-1], depthOf(u.stack[n-1], u.depths[n-1]), nil
}

func (u *unpickler) top() (any, error) {
	v, _, err := u.topD()
	return v, err
}

// popMark returns the items pushed since the last MARK, removes them, and
// returns the deepest item's depth.
func (u *unpickler) popMark() ([]any, int, error) {
	if len(u.marks) == 0 {
		return nil, 0, errors.New("pickle MARK missing")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	deepest := 0
	for i, v := range items {
		deepest = max(deepest, depthOf(v, u.depths[m+i]))
	}
	u.stack, u.depths = u.stack[:m], u.depths[:m]
	u.charge(24 + 16*int64(len(items)))
	return items, deepest, nil
}

func (u *unpickler) readUint(n int64) (uint64, error) {
	b, err := u.src.read(n)
	if err != nil {
		return 0, err
	}
	return littleEndian(b), nil
}

// littleEndian decodes up to 8 bytes as an unsigned little-endian integer.
func littleEndian(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// operandWidth is the byte width of the little-endian integer that follows
// an opcode: a value (BININT*), a length (LONG*, BIN* strings and bytes)
// or a memo key (BINPUT, BINGET and their LONG_ forms).
var operandWidth = [256]int64{
	'J': 4, 'K': 1, 'M': 2,
	0x8a: 1, 0x8b: 4,
	'X': 4, 0x8c: 1, 0x8d: 8,
	'B': 4, 'C': 1, 0x8e: 8, 0x96: 8,
	'T': 4, 'U': 1,
	'q': 1, 'r': 4, 'h': 1, 'j': 4,
}

// readCounted reads op's length operand and that many bytes.
func (u *unpickler) readCounted(op byte) ([]byte, error) {
	n, err := u.readUint(operandWidth[op])
	if err != nil {
		return nil, err
	}
	return u.readBytes(n)
}

// readMemoKey reads a memo key: a decimal line after PUT and GET, a
// little-endian operand after their binary forms.
func (u *unpickler) readMemoKey(op byte) (int64, error) {
	if op == 'p' || op == 'g' {
		line, err := u.src.readLine()
		if err != nil {
			return 0, err
		}
		return strconv.ParseInt(string(line), 10, 64)
	}
	i, err := u.readUint(operandWidth[op])
	return int64(i), err
}

// readGlobal reads a module line and a name line (GLOBAL, INST) and
// resolves them.
func (u *unpickler) readGlobal() (any, error) {
	mod, err := u.src.readLine()
	if err != nil {
		return nil, err
	}
	name, err := u.src.readLine()
	if err != nil {
		return nil, err
	}
	return u.resolve(string(mod), string(name))
}

func (u *unpickler) readBytes(n uint64) ([]byte, error) {
	if n > uint64(u.src.remaining()) {
		return nil, fmt.Errorf("length %d exceeds the %d bytes left", n, u.src.remaining())
	}
	b, err := u.src.read(int64(n))
	if err != nil {
		return nil, err
	}
	u.charge(24 + int64(n))
	return append([]byte(nil), b...), nil
}

// load runs the machine until STOP and returns the result.
func (u *unpickler) load() (result any, err error) {
	u.stack, u.depths, u.marks = u.stack[:0], u.depths[:0], u.marks[:0]
	if u.memo == nil {
		u.memo = map[int64]memoEntry{}
	}
	for {
		start := u.src.pos
		op, err := u.src.readByte()
		if err != nil {
			return nil, fmt.Errorf("pickle truncated: %w", err)
		}
		done, err := u.step(op)
		if err == nil {
			err = u.err
		}
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
		if len(u.marks) >= maxStack {
			return false, fmt.Errorf("%w: more than %d marks", errTooLarge, maxStack)
		}
		u.marks = append(u.marks, len(u.stack))
	case '0': // POP
		if len(u.marks) > 0 && u.marks[len(u.marks)-1] == len(u.stack) {
			u.marks = u.marks[:len(u.marks)-1] // Python pops the mark here
			return false, nil
		}
		_, err := u.pop()
		return false, err
	case '1': // POP_MARK
		_, _, err := u.popMark()
		return false, err
	case '2': // DUP
		v, d, err := u.topD()
		if err != nil {
			return false, err
		}
		u.push(v, d)

	case 'N':
		u.pushLeaf(pyNone{})
	case 0x88:
		u.pushLeaf(true)
	case 0x89:
		u.pushLeaf(false)
	case 'J', 'K', 'M': // BININT, BININT1, BININT2
		v, err := u.readUint(operandWidth[op])
		if err != nil {
			return false, err
		}
		if op == 'J' { // signed
			u.pushLeaf(int64(int32(uint32(v))))
		} else {
			u.pushLeaf(int64(v))
		}
	case 0x8a, 0x8b: // LONG1, LONG4
		b, err := u.readCounted(op)
		if err != nil {
			return false, err
		}
		u.pushLeaf(decodeLong(b))
	case 'I', 'L': // INT, LONG (text)
		line, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		v, err := parseTextInt(string(line), op == 'I')
		if err != nil {
			return false, err
		}
		u.pushLeaf(v)
	case 'G': // BINFLOAT
		b, err := u.src.read(8)
		if err != nil {
			return false, err
		}
		u.pushLeaf(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case 'F': // FLOAT
		line, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(string(line)), 64)
		if err != nil {
			return false, err
		}
		u.pushLeaf(f)

	case 'X', 0x8c, 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
		b, err := u.readCounted(op)
		if err != nil {
			return false, err
		}
		u.pushLeaf(string(b))
	case 'B', 'C', 0x8e, 0x96: // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
		b, err := u.readCounted(op)
		if err != nil {
			return false, err
		}
		u.pushLeaf(b)
	case 'T', 'U': // BINSTRING, SHORT_BINSTRING (Python 2 str; decoded as latin-1 like encoding='latin1')
		b, err := u.readCounted(op)
		if err != nil {
			return false, err
		}
		u.pushLeaf(latin1(b))
	case 'S': // STRING (quoted repr)
		line, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		s, err := strconv.Unquote(pyQuoted(string(line)))
		if err != nil {
			return false, fmt.Errorf("STRING %q: %w", line, err)
		}
		u.pushLeaf(s)
	case 'V': // UNICODE (raw-unicode-escape); only plain text is accepted
		line, err := u.src.readLine()
		if err != nil {
			return false, err
		}
		u.pushLeaf(string(line))

	case ')':
		u.charge(24)
		u.push(pyTuple{}, 1)
	case 0x85, 0x86, 0x87: // TUPLE1..3
		n := int(op - 0x84)
		if u.underflow(n) {
			return false, errors.New("pickle stack underflow")
		}
		k := len(u.stack) - n
		t := append(pyTuple(nil), u.stack[k:]...)
		d := 0
		for i, v := range t {
			d = max(d, depthOf(v, u.depths[k+i]))
		}
		u.stack, u.depths = u.stack[:k], u.depths[:k]
		u.charge(24 + 16*int64(n))
		u.push(t, d+1)
	case 't', 0x91: // TUPLE, FROZENSET (kept as a tuple)
		items, d, err := u.popMark()
		if err != nil {
			return false, err
		}
		u.push(pyTuple(items), d+1)
	case ']', 0x8f: // EMPTY_LIST, EMPTY_SET (sets are kept as lists)
		u.charge(64)
		u.push(&pyList{depth: 1}, 1)
	case 'l': // LIST
		items, d, err := u.popMark()
		if err != nil {
			return false, err
		}
		u.charge(64)
		u.push(&pyList{items: items, depth: d + 1}, d+1)
	case '}':
		u.charge(128)
		u.push(&pyDict{depth: 1}, 1)
	case 'd': // DICT
		items, d, err := u.popMark()
		if err != nil {
			return false, err
		}
		dict := &pyDict{depth: d + 1}
		u.charge(128)
		if err := u.setItems(dict, items, d); err != nil {
			return false, err
		}
		u.push(dict, d+1)
	case 'a': // APPEND
		v, d, err := u.popD()
		if err != nil {
			return false, err
		}
		return false, u.appendTo([]any{v}, d)
	case 'e', 0x90: // APPENDS, ADDITEMS
		items, d, err := u.popMark()
		if err != nil {
			return false, err
		}
		return false, u.appendTo(items, d)
	case 's': // SETITEM
		v, dv, err := u.popD()
		if err != nil {
			return false, err
		}
		k, dk, err := u.popD()
		if err != nil {
			return false, err
		}
		return false, u.setItemsOnTop([]any{k, v}, max(dk, dv))
	case 'u': // SETITEMS
		items, d, err := u.popMark()
		if err != nil {
			return false, err
		}
		return false, u.setItemsOnTop(items, d)

	case 'p', 'q', 'r': // PUT, BINPUT, LONG_BINPUT
		i, err := u.readMemoKey(op)
		if err != nil {
			return false, err
		}
		return false, u.put(i)
	case 0x94: // MEMOIZE
		return false, u.put(int64(len(u.memo)))
	case 'g', 'h', 'j': // GET, BINGET, LONG_BINGET
		i, err := u.readMemoKey(op)
		if err != nil {
			return false, err
		}
		return false, u.get(i)

	case 'c': // GLOBAL
		v, err := u.readGlobal()
		if err != nil {
			return false, err
		}
		u.pushLeaf(v)
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
		u.pushLeaf(v)
	case 'R', 0x81: // REDUCE, NEWOBJ
		args, d, err := u.popD()
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
		u.pushResult(v, d)
	case 0x92: // NEWOBJ_EX
		kwargs, err := u.pop()
		if err != nil {
			return false, err
		}
		args, d, err := u.popD()
		if err != nil {
			return false, err
		}
		cls, err := u.pop()
		if err != nil {
			return false, err
		}
		if kw, ok := kwargs.(*pyDict); !ok || len(kw.keys) != 0 {
			return false, errors.New("NEWOBJ_EX with keyword arguments")
		}
		v, err := call(cls, args)
		if err != nil {
			return false, err
		}
		u.pushResult(v, d)
	case 'o': // OBJ
		items, d, err := u.popMark()
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
		u.pushResult(v, d+1)
	case 'i': // INST
		cls, err := u.readGlobal()
		if err != nil {
			return false, err
		}
		items, d, err := u.popMark()
		if err != nil {
			return false, err
		}
		v, err := call(cls, pyTuple(items))
		if err != nil {
			return false, err
		}
		u.pushResult(v, d+1)
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

// pushResult pushes what a call returned, given the depth of its
// arguments tuple: a container built from the arguments is no deeper.
func (u *unpickler) pushResult(v any, argsDepth int) {
	switch c := v.(type) {
	case *pyList:
		c.depth = max(c.depth, argsDepth)
	case *pyDict:
		c.depth = max(c.depth, argsDepth)
	}
	u.push(v, depthOf(v, argsDepth))
}

func (u *unpickler) put(i int64) error {
	v, d, err := u.topD()
	if err != nil {
		return err
	}
	if _, ok := u.memo[i]; !ok {
		if len(u.memo) >= maxMemo {
			return fmt.Errorf("%w: more than %d memo entries", errTooLarge, maxMemo)
		}
		u.charge(64)
	}
	u.memo[i] = memoEntry{v, d}
	return nil
}

func (u *unpickler) get(i int64) error {
	e, ok := u.memo[i]
	if !ok {
		return fmt.Errorf("memo key %d not set", i)
	}
	u.push(e.v, depthOf(e.v, e.depth))
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
	u.pushLeaf(v)
	return nil
}

// appendTo appends items, the deepest of depth d, to the list on top.
func (u *unpickler) appendTo(items []any, d int) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	l, ok := t.(*pyList)
	if !ok {
		return fmt.Errorf("APPEND to a %s", typeName(t))
	}
	if len(items) > 0 {
		if l.depth = max(l.depth, d+1); l.depth > maxDepth {
			return errTooDeep
		}
	}
	u.charge(16 * int64(len(items)))
	l.items = append(l.items, items...)
	return nil
}

// setItemsOnTop sets key/value pairs, the deepest of depth d, in the dict
// on top.
func (u *unpickler) setItemsOnTop(items []any, d int) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	dict, ok := t.(*pyDict)
	if !ok {
		return fmt.Errorf("SETITEM on a %s", typeName(t))
	}
	return u.setItems(dict, items, d)
}

// setItems is setItems charged to the unpickler, for items of depth d.
func (u *unpickler) setItems(dict *pyDict, items []any, d int) error {
	if len(items) > 0 {
		if dict.depth = max(dict.depth, d+1); dict.depth > maxDepth {
			return errTooDeep
		}
	}
	u.charge(48 * int64(len(items)/2))
	return setItems(dict, items)
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
		shift := uint(64 - 8*len(b))
		return int64(littleEndian(b)<<shift) >> shift
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
