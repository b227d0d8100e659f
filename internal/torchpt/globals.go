package torchpt

import (
	"errors"
	"fmt"
	"math/big"
)

// dtype describes a torch storage element type.
type dtype struct {
	name string // PyTorch dtype name, reported in Tensor.DType
	size int64  // bytes per element
}

// storageTypes are the torch.*Storage classes a checkpoint may name.
var storageTypes = map[string]dtype{
	"FloatStorage":    {"float32", 4},
	"HalfStorage":     {"float16", 2},
	"BFloat16Storage": {"bfloat16", 2},
	"DoubleStorage":   {"float64", 8},
	"LongStorage":     {"int64", 8},
	"IntStorage":      {"int32", 4},
	"ShortStorage":    {"int16", 2},
	"CharStorage":     {"int8", 1},
	"ByteStorage":     {"uint8", 1},
	"BoolStorage":     {"bool", 1},
}

// maxDims bounds a tensor's rank.
const maxDims = 32

// resolveGlobal is the unpickler's find_class: the complete list of globals
// a checkpoint may name. Everything else is a *ForbiddenError.
func resolveGlobal(module, name string) (any, error) {
	switch module + "." + name {
	case "collections.OrderedDict":
		return &pyFunc{module, name, newOrderedDict}, nil
	case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
		return &pyFunc{module, name, rebuildTensor}, nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return &pyFunc{module, name, rebuildParameter}, nil
	case "torch._tensor._rebuild_from_type_v2":
		return &pyFunc{module, name, rebuildFromType}, nil
	case "torch.Size":
		return &pyFunc{module, name, newSize}, nil
	case "_codecs.encode":
		return &pyFunc{module, name, codecsEncode}, nil
	case "torch.Tensor", "torch._tensor.Tensor", "torch.nn.parameter.Parameter":
		return pyType{module, name}, nil
	}
	if module == "torch" {
		if _, ok := storageTypes[name]; ok {
			return pyType{module, name}, nil
		}
		if len(name) > len("Storage") && name[len(name)-len("Storage"):] == "Storage" {
			return nil, fmt.Errorf("%w: storage type torch.%s", ErrUnsupported, name)
		}
	}
	return nil, &ForbiddenError{Module: module, Name: name}
}

func newOrderedDict(args pyTuple) (any, error) {
	d := newDict()
	if len(args) == 0 {
		return d, nil
	}
	if len(args) != 1 {
		return nil, fmt.Errorf("want at most 1 argument, got %d", len(args))
	}
	switch src := args[0].(type) {
	case *pyDict:
		for i := range src.keys {
			d.set(src.keys[i], src.vals[i])
		}
	case *pyList:
		for _, it := range src.items {
			kv, ok := it.(pyTuple)
			if !ok || len(kv) != 2 {
				return nil, errors.New("items must be (key, value) pairs")
			}
			if err := setItems(d, []any{kv[0], kv[1]}); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("cannot build from a %s", typeName(args[0]))
	}
	return d, nil
}

// rebuildTensor implements _rebuild_tensor_v2(storage, storage_offset,
// size, stride, requires_grad, backward_hooks[, metadata]) and the older
// _rebuild_tensor(storage, storage_offset, size, stride).
func rebuildTensor(args pyTuple) (any, error) {
	if len(args) < 4 || len(args) > 7 {
		return nil, fmt.Errorf("want 4 to 7 arguments, got %d", len(args))
	}
	st, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("storage argument is a %s", typeName(args[0]))
	}
	off, ok := args[1].(int64)
	if !ok || off < 0 {
		return nil, fmt.Errorf("bad storage offset %s", describe(args[1]))
	}
	shape, err := intTuple(args[2], "size")
	if err != nil {
		return nil, err
	}
	stride, err := intTuple(args[3], "stride")
	if err != nil {
		return nil, err
	}
	t := &tensorRef{storage: st, offset: off, shape: shape, stride: stride}
	if err := t.check(); err != nil {
		return nil, err
	}
	return t, nil
}

// rebuildParameter implements _rebuild_parameter(data, requires_grad,
// backward_hooks[, state]): a Parameter is its data here.
func rebuildParameter(args pyTuple) (any, error) {
	if len(args) < 3 || len(args) > 4 {
		return nil, fmt.Errorf("want 3 or 4 arguments, got %d", len(args))
	}
	t, ok := args[0].(*tensorRef)
	if !ok {
		return nil, fmt.Errorf("data argument is a %s", typeName(args[0]))
	}
	return t, nil
}

// rebuildFromType implements _rebuild_from_type_v2(func, type, args, state)
// for plain tensors and Parameters: it calls func (itself an allowed
// rebuild function) on args.
func rebuildFromType(args pyTuple) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("want 4 arguments, got %d", len(args))
	}
	if _, ok := args[1].(pyType); !ok {
		return nil, fmt.Errorf("type argument is a %s", typeName(args[1]))
	}
	v, err := call(args[0], args[2])
	if err != nil {
		return nil, err
	}
	if _, ok := v.(*tensorRef); !ok {
		return nil, fmt.Errorf("rebuilt a %s, not a tensor", typeName(v))
	}
	return v, nil
}

func newSize(args pyTuple) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("want 1 argument, got %d", len(args))
	}
	switch v := args[0].(type) {
	case pyTuple:
		return v, nil
	case *pyList:
		return pyTuple(v.items), nil
	}
	return nil, fmt.Errorf("cannot build from a %s", typeName(args[0]))
}

// codecsEncode implements _codecs.encode(str, 'latin1'), which protocol-2
// pickles use for bytes objects.
func codecsEncode(args pyTuple) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("want 2 arguments, got %d", len(args))
	}
	s, ok1 := args[0].(string)
	enc, ok2 := args[1].(string)
	if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1") {
		return nil, errors.New("only encode(str, 'latin1') is supported")
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, errors.New("character outside latin-1")
		}
		b = append(b, byte(r))
	}
	return b, nil
}

func intTuple(v any, what string) ([]int64, error) {
	var items []any
	switch t := v.(type) {
	case pyTuple:
		items = t
	case *pyList:
		items = t.items
	default:
		return nil, fmt.Errorf("%s is a %s, not a tuple", what, typeName(v))
	}
	if len(items) > maxDims {
		return nil, fmt.Errorf("%s has %d dimensions (at most %d)", what, len(items), maxDims)
	}
	out := make([]int64, len(items))
	for i, it := range items {
		n, ok := it.(int64)
		if !ok {
			if _, big := it.(*big.Int); big {
				return nil, fmt.Errorf("%s[%d] out of range", what, i)
			}
			return nil, fmt.Errorf("%s[%d] is a %s", what, i, typeName(it))
		}
		if n < 0 {
			return nil, fmt.Errorf("%s[%d] = %d is negative", what, i, n)
		}
		out[i] = n
	}
	return out, nil
}
