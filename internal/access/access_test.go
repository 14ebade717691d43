package access

import (
	"errors"
	"testing"
)

// TestMayView: the may-view rule: own workspace and the view capability.
func TestMayView(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		m    Member
		ws   int64
		want error
	}{
		{"OK", Member{WorkspaceID: 1, Role: RoleViewer}, 1, nil},
		{"ErrNotMember", Member{WorkspaceID: 2, Role: RoleOwner}, 1, ErrNotMember},
		{"ErrCannotView", Member{WorkspaceID: 1, Role: "retired"}, 1, ErrCannotView},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MayView(tc.m, tc.ws); !errors.Is(got, tc.want) {
				t.Errorf("MayView = %v, want %v", got, tc.want)
			}
		})
	}
}
