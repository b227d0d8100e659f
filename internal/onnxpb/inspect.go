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
	err = walkGraph(data, func(num protowire.Number, v []byte) error {
		switch num {
		case 1: // node
			s, err := stringFields(v, 4, 7) // op_type, domain
			if err != nil {
				return err
			}
			info.Nodes = append(info.Nodes, NodeInfo{OpType: s[0], Domain: s[1]})
		case 5: // initializer: its name
			return walkBytes(v, func(num protowire.Number, s []byte) error {
				if num == 8 {
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
	if err != nil {
		return nil, err
	}
	return info, nil
}

func readValueInfo(b []byte) (ValueInfo, error) {
	var vi ValueInfo
	err := walkBytes(b, func(num protowire.Number, v []byte) error {
		switch num {
		case 1:
			vi.Name = string(v)
		case 2: // TypeProto
			return walkBytes(v, func(num protowire.Number, tt []byte) error {
				if num != 1 { // tensor_type
					return nil
				}
				return walk(tt, func(num protowire.Number, typ protowire.Type, sh []byte, x uint64) error {
					switch {
					case num == 1 && typ == protowire.VarintType:
						vi.ElemType = int32(x)
					case num == 2 && typ == protowire.BytesType:
						vi.Dims = []int64{}
						return walkBytes(sh, func(num protowire.Number, dim []byte) error {
							if num != 1 {
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
