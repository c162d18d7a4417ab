package regnum

import "testing"

func TestName(t *testing.T) {
	cases := map[int]string{
		Rax: "rax", Rdx: "rdx", Rbx: "rbx", Rbp: "rbp", Rsp: "rsp", R8: "r8", R15: "r15",
		Rip: "rip", Xmm0: "xmm0", Xmm0 + 9: "xmm9", Xmm15: "xmm15",
		Eflags: "eflags", FsBase: "fs_base", GsBase: "gs_base",
		33: "r?33", 100: "r?100", -1: "r?-1",
	}
	for n, want := range cases {
		if got := Name(n); got != want {
			t.Errorf("Name(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestIsXmm(t *testing.T) {
	for n := uint64(0); n < Count; n++ {
		want := n >= 17 && n <= 32
		if IsXmm(n) != want {
			t.Errorf("IsXmm(%d) = %v, want %v", n, !want, want)
		}
	}
}
