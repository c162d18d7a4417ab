package terminal

import (
	"strconv"
	"strings"
	"time"
)

// malformedEscape stands for a "$" that names no field, as in Delve.
const malformedEscape = "<malformed escape>"

// expandPrompt fills "config prompt": $$ a dollar, $d the time (RFC 3339),
// $f the selected frame, $g the goroutine, $t the thread, $p the process.
// The state is fetched once, and only when the prompt asks for it.
func (t *Term) expandPrompt(p string) string {
	var pid, tid int
	var goid int64
	fetched := false
	state := func() {
		if fetched {
			return
		}
		fetched = true
		st, err := t.client.GetState()
		if err != nil || st == nil {
			return
		}
		pid = st.Pid
		if st.SelectedGoroutine != nil {
			goid = st.SelectedGoroutine.ID
		}
		if st.CurrentThread != nil {
			tid = st.CurrentThread.ID
		}
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '$' {
			b.WriteByte(p[i])
			continue
		}
		i++
		if i >= len(p) {
			b.WriteString(malformedEscape)
			break
		}
		switch p[i] {
		case '$':
			b.WriteByte('$')
		case 'd':
			b.WriteString(time.Now().Format(time.RFC3339))
		case 'f':
			b.WriteString(strconv.Itoa(t.frame))
		case 'g':
			state()
			b.WriteString(strconv.FormatInt(goid, 10))
		case 't':
			state()
			b.WriteString(strconv.Itoa(tid))
		case 'p':
			state()
			b.WriteString(strconv.Itoa(pid))
		default:
			b.WriteString(malformedEscape)
		}
	}
	return b.String()
}

// promptText is the prompt to show now: the configured one, expanded, or
// the default.
func (t *Term) promptText() string {
	if t.set.prompt == "" {
		return prompt
	}
	return t.expandPrompt(t.set.prompt)
}
