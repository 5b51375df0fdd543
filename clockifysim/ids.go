package clockifysim

import "encoding/hex"

// Entity kinds, part of every generated ObjectId so ids never collide across kinds.
const (
	kindWorkspace byte = iota + 1
	kindUser
	kindGroup
	kindProject
	kindClient
	kindTag
	kindTask
	kindTimeEntry
	kindExpense
	kindCategory
	kindInvoice
	kindApproval
	kindHoliday
	kindCustomField
	kindPolicy
	kindCurrency
	kindOrganization
)

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hash mixes the seed with up to four coordinates; used for every pseudo-random attribute so that a
// record depends only on (seed, its coordinates).
func hash(seed uint64, a, b, c, d uint64) uint64 {
	h := splitmix64(seed ^ 0x5bd1e995)
	h = splitmix64(h ^ a)
	h = splitmix64(h ^ b)
	h = splitmix64(h ^ c)
	return splitmix64(h ^ d)
}

// appendOID appends a 24-hex ObjectId: 4 bytes of timestamp (as a real ObjectId) and 8 bytes that are
// a bijection of (kind, owner, index) under a seed mask, so distinct coordinates give distinct ids.
func appendOID(dst []byte, mask uint64, kind byte, owner, index uint32, ts int64) []byte {
	var b [12]byte
	t := uint32(ts)
	b[0], b[1], b[2], b[3] = byte(t>>24), byte(t>>16), byte(t>>8), byte(t)
	v := (uint64(kind)<<56 | uint64(owner&0xffffff)<<32 | uint64(index)) ^ mask
	for i := 0; i < 8; i++ {
		b[4+i] = byte(v >> (56 - 8*i))
	}
	n := len(dst)
	dst = append(dst, zeroHex[:]...)
	hex.Encode(dst[n:], b[:])
	return dst
}

var zeroHex [24]byte

func oid(mask uint64, kind byte, owner, index uint32, ts int64) string {
	return string(appendOID(make([]byte, 0, 24), mask, kind, owner, index, ts))
}
