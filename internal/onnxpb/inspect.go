package onnxpb

import "google.golang.org/protobuf/encoding/protowire"

// Info is what Inspect reads from a ModelProto besides the tensors: the
// fields onnx-go's decoder does not expose.
type Info struct {
	Metadata     map[string]string
	Opsets       map[string]int64
	Inputs       []ValueInfo // graph inputs; Dims -1 where symbolic or unknown
	Outputs      []ValueInfo
	Initializers map[string]bool
	Nodes        []NodeInfo // in graph order
}

// NodeInfo names one node's operator.
type NodeInfo struct {
	OpType, Domain string
}

// Inspect reads a model's metadata, opsets, graph inputs and outputs with
// their declared shapes, initializer names and node operators. It never
// panics on malformed input.
func Inspect(data []byte) (*Info, error) {
	meta, opsets, err := ReadMetadata(data)
	if err != nil {
		return nil, err
	}
	info := &Info{Metadata: meta, Opsets: opsets, Initializers: map[string]bool{}}
	err = walk(data, func(num protowire.Number, typ protowire.Type, graph []byte, _ uint64) error {
		if num != 7 || typ != protowire.BytesType {
			return nil
		}
		return walk(graph, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			if typ != protowire.BytesType {
				return nil
			}
			switch num {
			case 1:
				var n NodeInfo
				if err := walk(v, func(num protowire.Number, typ protowire.Type, s []byte, _ uint64) error {
					if typ == protowire.BytesType {
						switch num {
						case 4:
							n.OpType = string(s)
						case 7:
							n.Domain = string(s)
						}
					}
					return nil
				}); err != nil {
					return err
				}
				info.Nodes = append(info.Nodes, n)
			case 5:
				return walk(v, func(num protowire.Number, typ protowire.Type, s []byte, _ uint64) error {
					if num == 8 && typ == protowire.BytesType {
						info.Initializers[string(s)] = true
					}
					return nil
				})
			case 11, 12:
				vi, err := readValueInfo(v)
				if err != nil {
					return err
				}
				if num == 11 {
					info.Inputs = append(info.Inputs, vi)
				} else {
					info.Outputs = append(info.Outputs, vi)
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}

func readValueInfo(b []byte) (ValueInfo, error) {
	var vi ValueInfo
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			vi.Name = string(v)
		case 2: // TypeProto
			return walk(v, func(num protowire.Number, typ protowire.Type, tt []byte, _ uint64) error {
				if num != 1 || typ != protowire.BytesType { // tensor_type
					return nil
				}
				return walk(tt, func(num protowire.Number, typ protowire.Type, sh []byte, x uint64) error {
					switch {
					case num == 1 && typ == protowire.VarintType:
						vi.ElemType = int32(x)
					case num == 2 && typ == protowire.BytesType:
						vi.Dims = []int64{}
						return walk(sh, func(num protowire.Number, typ protowire.Type, dim []byte, _ uint64) error {
							if num != 1 || typ != protowire.BytesType {
								return nil
							}
							d, p := int64(-1), ""
							if err := walk(dim, func(num protowire.Number, typ protowire.Type, s []byte, x uint64) error {
								switch {
								case num == 1 && typ == protowire.VarintType:
									d = int64(x)
								case num == 2 && typ == protowire.BytesType:
									p = string(s)
								}
								return nil
							}); err != nil {
								return err
							}
							if p != "" {
								d = -1
							}
							vi.Dims = append(vi.Dims, d)
							vi.Params = append(vi.Params, p)
							return nil
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	return vi, err
}
