package onboarding

import "testing"

func TestNewGUID(t *testing.T) {
	t.Parallel()
	a, b := NewGUID(), NewGUID()
	if !IsGUID(a) || a == b || a[14] != '4' || !('8' <= a[19] && a[19] <= '9' || 'a' <= a[19] && a[19] <= 'b') {
		t.Errorf("NewGUID() = %q, %q; want two different version 4 GUIDs", a, b)
	}
}
