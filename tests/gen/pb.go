package gen

import "math/rand/v2"

// A field is one encoded protobuf field: its number and its bytes (tag
// included). Messages are built as lists of fields so that the order in
// which they are finally written can be chosen afterwards.
type field struct {
	num  int
	data []byte
}

// wire is a protobuf writer with the freedoms the format allows and pprof's
// own encoder never takes: padded (over-long) varints, explicit zero
// values, packed or unpacked or split repeated scalars, unknown fields.
type wire struct {
	r     *rand.Rand
	style *Style
}

// varint appends x; with Style.PadVarints it sometimes pads the encoding
// with redundant continuation bytes (still at most 10 bytes), which every
// protobuf decoder must accept.
func (w *wire) varint(b []byte, x uint64) []byte {
	n := 1
	for y := x; y >= 0x80; y >>= 7 {
		n++
	}
	pad := 0
	if w.style.PadVarints > 0 && n < 10 && w.r.Float64() < w.style.PadVarints {
		pad = 1 + w.r.IntN(10-n)
	}
	for i := 0; i < n+pad-1; i++ {
		b = append(b, byte(x&0x7f)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}

func (w *wire) tag(b []byte, num, typ int) []byte {
	return w.varint(b, uint64(num)<<3|uint64(typ))
}

// u64 is an optional scalar: omitted when zero unless the style says to
// write zeros explicitly.
func (w *wire) u64(fs []field, num int, x uint64) []field {
	if x == 0 && !(w.style.ExplicitZeros > 0 && w.r.Float64() < w.style.ExplicitZeros) {
		return fs
	}
	return append(fs, field{num, w.varint(w.tag(nil, num, 0), x)})
}

func (w *wire) i64(fs []field, num int, x int64) []field { return w.u64(fs, num, uint64(x)) }

func (w *wire) boolean(fs []field, num int, x bool) []field {
	if x {
		v := uint64(1)
		if w.style.OddBools && w.r.IntN(3) == 0 {
			v = uint64(2 + w.r.IntN(200)) // any non-zero varint is true
		}
		return append(fs, field{num, w.varint(w.tag(nil, num, 0), v)})
	}
	return w.u64(fs, num, 0)
}

// bytes is a length-delimited field (a string or an embedded message).
func (w *wire) bytes(fs []field, num int, data []byte) []field {
	b := w.tag(nil, num, 2)
	b = w.varint(b, uint64(len(data)))
	return append(fs, field{num, append(b, data...)})
}

// repeated writes a repeated scalar field. Modes: pprof's own rule
// (packed when more than 2 values), all packed, all unpacked, or a random
// mix of packed runs and single values (decoders append them all).
func (w *wire) repeated(fs []field, num int, xs []uint64) []field {
	mode := w.style.Packing
	if mode == PackRandom {
		mode = Packing(w.r.IntN(int(PackRandom)))
	}
	switch mode {
	case PackPprof:
		if len(xs) > 2 {
			return w.packed(fs, num, xs)
		}
		return w.unpacked(fs, num, xs)
	case PackAlways:
		if len(xs) == 0 {
			return fs
		}
		return w.packed(fs, num, xs)
	case PackNever:
		return w.unpacked(fs, num, xs)
	default: // PackSplit
		for len(xs) > 0 {
			n := 1 + w.r.IntN(len(xs))
			if w.r.IntN(2) == 0 {
				fs = w.packed(fs, num, xs[:n])
			} else {
				fs = w.unpacked(fs, num, xs[:n])
			}
			xs = xs[n:]
		}
		return fs
	}
}

func (w *wire) packed(fs []field, num int, xs []uint64) []field {
	var body []byte
	for _, x := range xs {
		body = w.varint(body, x)
	}
	return w.bytes(fs, num, body)
}

func (w *wire) unpacked(fs []field, num int, xs []uint64) []field {
	for _, x := range xs {
		fs = append(fs, field{num, w.varint(w.tag(nil, num, 0), x)})
	}
	return fs
}

// unknown sometimes adds fields the schema does not define, of every wire
// type a decoder must skip (varint, fixed64, length-delimited, fixed32).
func (w *wire) unknown(fs []field, firstFree int) []field {
	if w.style.UnknownFields == 0 {
		return fs
	}
	for w.r.Float64() < w.style.UnknownFields {
		num := firstFree + w.r.IntN(1000)
		if w.r.IntN(4) == 0 {
			num = firstFree + w.r.IntN(1<<20)
		}
		b := w.tag(nil, num, 0)
		switch w.r.IntN(4) {
		case 0:
			b = w.varint(b, w.r.Uint64()>>w.r.IntN(64))
		case 1:
			b = w.tag(nil, num, 1)
			for i := 0; i < 8; i++ {
				b = append(b, byte(w.r.IntN(256)))
			}
		case 2:
			data := make([]byte, w.r.IntN(20))
			for i := range data {
				data[i] = byte(w.r.IntN(256))
			}
			fs = w.bytes(fs, num, data)
			continue
		case 3:
			b = w.tag(nil, num, 5)
			for i := 0; i < 4; i++ {
				b = append(b, byte(w.r.IntN(256)))
			}
		}
		fs = append(fs, field{num, b})
	}
	return fs
}

// order returns the fields of one message in the order the style asks for.
// Only fields with different numbers are reordered: the relative order of
// repeated values of one field carries meaning and is kept.
func (w *wire) order(fs []field, o Order) []byte {
	var out []byte
	switch o {
	case OrderCanonical:
		for _, f := range fs {
			out = append(out, f.data...)
		}
		return out
	case OrderReverse:
		// Fields grouped by number, groups in reverse order of first appearance.
		var nums []int
		seen := map[int]bool{}
		for _, f := range fs {
			if !seen[f.num] {
				seen[f.num] = true
				nums = append(nums, f.num)
			}
		}
		for i := len(nums) - 1; i >= 0; i-- {
			for _, f := range fs {
				if f.num == nums[i] {
					out = append(out, f.data...)
				}
			}
		}
		return out
	default: // OrderShuffle: a random interleaving of the per-number queues.
		var nums []int
		queues := map[int][]field{}
		for _, f := range fs {
			if _, ok := queues[f.num]; !ok {
				nums = append(nums, f.num)
			}
			queues[f.num] = append(queues[f.num], f)
		}
		left := len(fs)
		for left > 0 {
			k := w.r.IntN(left)
			for _, n := range nums {
				q := queues[n]
				if k < len(q) {
					out = append(out, q[0].data...)
					queues[n] = q[1:]
					break
				}
				k -= len(q)
			}
			left--
		}
		return out
	}
}
