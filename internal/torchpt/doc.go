// Package torchpt reads PyTorch checkpoints (files written by torch.save)
// into named float32 tensors, without Python.
//
// Both serializations are supported: the zip archive of torch ≥ 1.6
// (DIR/data.pkl, DIR/data/KEY, optionally DIR/byteorder) and the legacy
// stream (magic number, protocol version and sys_info pickles, the main
// pickle, the sorted storage keys, then each storage as an int64 element
// count followed by its raw little-endian bytes). Tar-based files from
// before torch 0.4 are refused.
//
// The pickles are decoded by this package's own restricted unpickler. It
// builds plain data (None, bools, numbers, strings, bytes, tuples, lists,
// dicts) and resolves only the globals a state dict needs:
// collections.OrderedDict, the torch.*Storage types, torch.Size,
// torch._utils._rebuild_tensor{,_v2}, torch._utils._rebuild_parameter{,_with_state},
// torch._tensor._rebuild_from_type_v2 (for Tensor and Parameter only) and
// _codecs.encode. Any other global (os.system, builtins.eval, a module
// class, torch.storage._load_from_bytes, ...) is refused with a
// *ForbiddenError naming it; nothing from the file is ever executed.
//
// Untrusted input is expected: every length, count, offset and stride is
// checked against the file size before anything is allocated, and a panic
// inside the decoder is recovered and returned as ErrMalformed. A pickle is
// a program, so the unpickler also bounds what it builds: data.pkl at most
// 64 MiB, containers nested at most 100 deep, 65536 values on the stack,
// 262144 memo entries and about 128 MiB of values in all. Nothing walks the
// values recursively (error messages describe a container by its type and
// length), so a million-deep or self-containing value is an error, not a
// stack overflow. The tensors read are bounded too, before any storage is
// inflated or read: by default two elements per byte of the file and twice
// its size plus 64 MiB of storage bytes; ReadLimited takes tighter bounds
// from a caller that knows its architecture (zoo.ImportPT does).
//
// Tensor data is converted to float32 whatever the storage type (float16,
// bfloat16, float64, integers, bool); views are materialised in row-major
// order, so strided, offset and expanded tensors come out contiguous.
package torchpt
