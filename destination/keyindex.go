package destination

import (
	"bytes"
	"cmp"
	be "encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"strconv"

	"github.com/google/uuid"
)

// keyIndex is what a commit of a dedup stream needs to know about the rows of its batch, in about
// 48 bytes a row: the key's hash, the cursor in an order-preserving form, the arrival and the raw
// id. The rows themselves are already in Parquet files.
type keyIndex struct {
	seed    maphash.Seed
	entries []keyEntry
	strs    []string // cursor values that have no 64-bit order-preserving form (rare)
	keys    keyRange // the first key column's values, for pruning files by their bounds
	buf     []byte
}

type keyEntry struct {
	h1, h2 uint64
	cur    cursorKey
	seq    uint32
	tomb   bool // a CDC delete: the key's winning version is "gone"
	raw    uuid.UUID
}

// cursorKey orders cursors: null first, then numbers and instants by a 64-bit key, then strings.
type cursorKey struct {
	class uint8 // 0 null, 1 ordered 64-bit, 2 string (index into keyIndex.strs)
	ord   uint64
}

func newKeyIndex() *keyIndex { return &keyIndex{seed: maphash.MakeSeed()} }

// hash is the 128-bit hash of a key's canonical encoding (two independent 64-bit hashes: a
// collision needs both to collide, about one in 2^128 for a pair).
func (x *keyIndex) hash(enc []byte) (uint64, uint64) {
	h1 := maphash.Bytes(x.seed, enc)
	var salt [1]byte
	var h maphash.Hash
	h.SetSeed(x.seed)
	h.Write(salt[:])
	h.Write(enc)
	return h1, h.Sum64()
}

func (x *keyIndex) cursor(k colKind, v value) cursorKey {
	if v.null {
		return cursorKey{}
	}
	switch k {
	case kFloat32, kFloat64:
		return cursorKey{class: 1, ord: orderedFloat(v.f)}
	case kString, kJSON, kNested:
		if k == kNested && v.i == 1 {
			return cursorKey{class: 1, ord: orderedFloat(v.f)}
		}
		if t, ok := parseTime([]byte(strconv.Quote(v.s)), false); ok {
			return cursorKey{class: 1, ord: uint64(t.UnixMicro()) ^ 1<<63}
		}
		x.strs = append(x.strs, v.s)
		return cursorKey{class: 2, ord: uint64(len(x.strs) - 1)}
	}
	return cursorKey{class: 1, ord: uint64(v.i) ^ 1<<63}
}

func orderedFloat(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

func (x *keyIndex) compare(a, b cursorKey) int {
	if c := cmp.Compare(a.class, b.class); c != 0 {
		return c
	}
	if a.class == 2 {
		return cmp.Compare(x.strs[a.ord], x.strs[b.ord])
	}
	return cmp.Compare(a.ord, b.ord)
}

// keyRange keeps the first key column's values of the batch: strings in one arena, or integers.
type keyRange struct {
	arena []byte
	ends  []uint32
	ints  []int64
}

// encodeKey is the canonical encoding of a key, the same from a record and from a table row.
func encodeKey(dst []byte, kinds []colKind, vals []value) []byte {
	for i, v := range vals {
		switch kinds[i] {
		case kString, kJSON:
			dst = be.AppendUvarint(dst, uint64(len(v.s)))
			dst = append(dst, v.s...)
		case kFloat32, kFloat64:
			dst = be.BigEndian.AppendUint64(dst, math.Float64bits(v.f))
		default:
			dst = be.BigEndian.AppendUint64(dst, uint64(v.i))
		}
	}
	return dst
}

func (x *keyIndex) add(kinds []colKind, key []value, cur cursorKey, raw uuid.UUID, tomb bool) {
	x.buf = encodeKey(x.buf[:0], kinds, key)
	h1, h2 := x.hash(x.buf)
	x.entries = append(x.entries, keyEntry{h1: h1, h2: h2, cur: cur, seq: uint32(len(x.entries)), tomb: tomb, raw: raw})
	switch kinds[0] {
	case kString, kJSON:
		x.keys.arena = append(x.keys.arena, key[0].s...)
		x.keys.ends = append(x.keys.ends, uint32(len(x.keys.arena)))
	default:
		x.keys.ints = append(x.keys.ints, key[0].i)
	}
}

func (x *keyIndex) len() int { return len(x.entries) }

// sortEntries groups the entries by key, in arrival order within a key.
func (x *keyIndex) sortEntries() {
	slices.SortFunc(x.entries, func(a, b keyEntry) int {
		return cmp.Or(cmp.Compare(a.h1, b.h1), cmp.Compare(a.h2, b.h2), cmp.Compare(a.seq, b.seq))
	})
}

// group returns the index range of the entries of key hash (h1, h2); lo == hi when absent.
func (x *keyIndex) group(h1, h2 uint64) (int, int) {
	lo, _ := slices.BinarySearchFunc(x.entries, [2]uint64{h1, h2}, func(e keyEntry, t [2]uint64) int {
		return cmp.Or(cmp.Compare(e.h1, t[0]), cmp.Compare(e.h2, t[1]))
	})
	hi := lo
	for hi < len(x.entries) && x.entries[hi].h1 == h1 && x.entries[hi].h2 == h2 {
		hi++
	}
	return lo, hi
}

// sortedKeys are the distinct first-key values of a batch, sorted, to test file bounds against.
type sortedKeys struct {
	kind colKind
	strs []string
	ints []int64
}

func (k *keyRange) sorted(kind colKind) sortedKeys {
	out := sortedKeys{kind: kind}
	switch kind {
	case kString, kJSON:
		start := uint32(0)
		for _, e := range k.ends {
			out.strs = append(out.strs, unsafeString(k.arena[start:e]))
			start = e
		}
		slices.Sort(out.strs)
		out.strs = slices.Compact(out.strs)
	default:
		out.ints = slices.Clone(k.ints)
		slices.Sort(out.ints)
		out.ints = slices.Compact(out.ints)
	}
	return out
}

// mayHold reports whether a file whose bounds on the first key column are lo and hi (Iceberg's
// single-value serialization; strings may be truncated, which still bounds them) can hold a key
// of the batch. Without bounds it may.
func (k sortedKeys) mayHold(lo, hi []byte) bool {
	if lo == nil || hi == nil {
		return true
	}
	switch k.kind {
	case kString, kJSON:
		i, _ := slices.BinarySearchFunc(k.strs, lo, func(s string, t []byte) int { return bytes.Compare([]byte(s), t) })
		return i < len(k.strs) && bytes.Compare([]byte(k.strs[i]), hi) <= 0
	case kInt64, kTimestamp, kTimestampTZ:
		if len(lo) != 8 || len(hi) != 8 {
			return true
		}
		a, b := int64(be.LittleEndian.Uint64(lo)), int64(be.LittleEndian.Uint64(hi))
		i, _ := slices.BinarySearch(k.ints, a)
		return i < len(k.ints) && k.ints[i] <= b
	case kInt32, kDate:
		if len(lo) != 4 || len(hi) != 4 {
			return true
		}
		a, b := int64(int32(be.LittleEndian.Uint32(lo))), int64(int32(be.LittleEndian.Uint32(hi)))
		i, _ := slices.BinarySearch(k.ints, a)
		return i < len(k.ints) && k.ints[i] <= b
	}
	return true
}
