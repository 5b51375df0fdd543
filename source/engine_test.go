package source

import "testing"

func TestSmallerPageSize(t *testing.T) {
	for cur, want := range map[int]int{5000: 1000, 1000: 200, 200: 0, 3000: 1000, 700: 200, 4000: 1000} {
		if got := smallerPageSize(cur); got != want {
			t.Errorf("smallerPageSize(%d) = %d, want %d", cur, got, want)
		}
	}
}
