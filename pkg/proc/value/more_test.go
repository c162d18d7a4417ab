package value_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tinydbg/tinydbg/internal/fixture"
	"github.com/tinydbg/tinydbg/pkg/proc/value"
	"github.com/tinydbg/tinydbg/service/api"
)

// chanPrint is Delve 1.27.2's `print ch` on Go 1.26, where hchan has a
// timer and a synctest bubble; numbers that vary between builds are \d+.
const chanPrint = `chan int {
	qcount: 2,
	dataqsiz: 3,
	buf: *[3]int [10,20,0],
	elemsize: 8,
	closed: 0,
	timer: *runtime.timer nil,
	elemtype: *internal/abi.Type {Size_: 8, PtrBytes: 0, Hash: \d+, TFlag: TFlagUncommon|TFlagExtraStar|TFlagNamed|TFlagRegularMemory (15), Align_: 8, FieldAlign_: 8, Kind_: Int (2), Equal: runtime.memequal64, GCData: *0, Str: \d+, PtrToThis: \d+},
	sendx: 2,
	recvx: 0,
	recvq: waitq<int> {
		first: *sudog<int> nil,
		last: *sudog<int> nil,},
	sendq: waitq<int> {
		first: *sudog<int> nil,
		last: *sudog<int> nil,},
	bubble: *runtime.synctestBubble nil,
	lock: runtime.mutex {
		lockRankStruct: runtime.lockRankStruct {},
		key: 0,},}`

// TestFormatMore checks flag constants, channels and time.Time against
// Delve 1.27.2's print and vars output on the valuesmore fixture.
func TestFormatMore(t *testing.T) {
	for _, f := range flavours() {
		t.Run(f.Name(), func(t *testing.T) {
			tg := startFixture(t, "valuesmore", f)
			short := value.LoadConfig{MaxStringLen: 64, MaxStructFields: 3}
			tZoneLoc := tg.word(t, tg.vars["main.tZone"].addr+16)
			for _, c := range []struct {
				name string
				cfg  value.LoadConfig
				want string
			}{
				{"permRW", value.DefaultLoadConfig, "PermRead|PermWrite (3)"},
				{"permNone", value.DefaultLoadConfig, "0"},
				{"permOdd", value.DefaultLoadConfig, "9"},
				{"modeAB", value.DefaultLoadConfig, "ModeA|ModeB (3)"},
				{"modeAll", value.DefaultLoadConfig, "ModeAll (7)"},
				{"ch", value.DefaultLoadConfig, "chan int 2/3"},
				{"ch", short, "chan int 2/3"},
				{"chItems", value.DefaultLoadConfig, "chan main.item 1/2"},
				{"chNil", value.DefaultLoadConfig, "chan int nil"},
				{"tUTC", value.DefaultLoadConfig, "time.Time(2024-01-02T03:04:05Z){wall: 6, ext: 63839761445, loc: *time.Location nil}"},
				// The zone "X" is unknown to the time zone database, so
				// Delve shows the instant in UTC.
				{"tZone", short, fmt.Sprintf("time.Time(2024-01-02T02:04:05Z){wall: 0, ext: 63839757845, loc: (*time.Location)(%#x)}", tZoneLoc)},
				{"dur", value.DefaultLoadConfig, "90000000000"},
			} {
				if got := api.FormatVar(tg.load(t, c.name, c.cfg)); got != c.want {
					t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
				}
			}
			multi := func(name string) string {
				return api.FormatVarMultiline(tg.load(t, name, value.DefaultLoadConfig))
			}
			if got, want := multi("tUTC"), "time.Time(2024-01-02T03:04:05Z){\n\twall: 6,\n\text: 63839761445,\n\tloc: *time.Location nil,}"; got != want {
				t.Errorf("print tUTC:\n got %s\nwant %s", got, want)
			}
			if got := multi("chNil"); got != "chan int {}" {
				t.Errorf("print chNil = %q", got)
			}
			ch := multi("ch")
			if f.Toolchain == "" {
				// QuoteMeta escapes the \d+ placeholders; unescape them.
				pat := "^" + strings.ReplaceAll(regexp.QuoteMeta(chanPrint), `\\d\+`, `\d+`) + "$"
				if !regexp.MustCompile(pat).MatchString(ch) {
					t.Errorf("print ch:\n got %s\nwant %s", ch, chanPrint)
				}
			} else if want := "chan int {\n\tqcount: 2,\n\tdataqsiz: 3,\n\tbuf: *[3]int [10,20,0],\n\telemsize: 8,\n"; !strings.HasPrefix(ch, want) {
				t.Errorf("print ch:\n got %s\nwant prefix %s", ch, want)
			}
			// Elements of a struct type are beyond the recursion limit:
			// Delve shows their addresses.
			buf := tg.word(t, tg.word(t, tg.vars["main.chItems"].addr)+16)
			want := fmt.Sprintf("\tbuf: *[2]main.item [\n\t\t(*main.item)(%#x),\n\t\t(*main.item)(%#x),\n\t],\n", buf, buf+24)
			if got := multi("chItems"); !strings.Contains(got, want) {
				t.Errorf("print chItems:\n got %s\nwant it to contain %s", got, want)
			}
		})
	}
}

// TestLoadMapFrom pages through a 1,000-entry map 64 entries at a time:
// every key comes exactly once, with its value, and a page past the end
// is an error, as Delve's m[1000:] is.
func TestLoadMapFrom(t *testing.T) {
	for _, f := range []fixture.Flavour{{}, {Toolchain: "go1.22.12"}} {
		t.Run(f.Name(), func(t *testing.T) {
			tg := startFixture(t, "valuesmore", f)
			g := tg.vars["main.pageMap"]
			seen := map[string]bool{}
			for skip := int64(0); skip < 1000; skip += 64 {
				v := tg.loader.LoadMapFrom("pageMap", g.addr, g.typ, skip, value.DefaultLoadConfig)
				n := min(64, 1000-skip)
				if v.Unreadable != nil || v.Len != 1000 || int64(len(v.Children)) != 2*n {
					t.Fatalf("skip %d: %v, len %d, %d entries", skip, v.Unreadable, v.Len, len(v.Children)/2)
				}
				for i := 0; i < len(v.Children); i += 2 {
					k, val := v.Children[i].Value, v.Children[i+1].Value
					if seen[k] || fmt.Sprint(2*atoi(t, k)) != val {
						t.Errorf("skip %d: entry %s: %s (seen before: %v)", skip, k, val, seen[k])
					}
					seen[k] = true
				}
				if got, want := api.FormatVarMultiline(v), fmt.Sprintf("\n\t...+%d more\n]", 1000-n); !strings.HasSuffix(got, want) {
					t.Errorf("skip %d: ends %q, want %q", skip, got[max(0, len(got)-30):], want)
				}
			}
			if len(seen) != 1000 {
				t.Errorf("%d distinct keys, want 1000", len(seen))
			}
			v := tg.loader.LoadMapFrom("pageMap", g.addr, g.typ, 1000, value.DefaultLoadConfig)
			if got := api.FormatVar(v); got != "(unreadable map index out of bounds)" {
				t.Errorf("skip 1000: %s", got)
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}
