package dap

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/service/api"
)

// logMessage is a logpoint's message: format holds %s where each
// {expression} was, evaluated when the logpoint is hit.
type logMessage struct {
	format string
	exprs  []string
}

// parseLogMessage splits "x is {x}" into its format and expressions, as
// Delve does: braces pair up, those inside an expression included.
func parseLogMessage(msg string) (*logMessage, error) {
	var format, expr strings.Builder
	var exprs []string
	depth := 0
	for _, r := range msg {
		switch {
		case depth == 0 && r == '{':
			depth = 1
			expr.Reset()
		case depth == 0 && r == '}':
			return nil, errors.New("invalid log point format: unmatched '}'")
		case depth == 0:
			if r == '%' {
				format.WriteString("%%")
			} else {
				format.WriteRune(r)
			}
		case r == '{':
			depth++
			expr.WriteRune(r)
		case r == '}':
			if depth--; depth > 0 {
				expr.WriteRune(r)
				continue
			}
			e := strings.TrimSpace(expr.String())
			if e == "" {
				return nil, errors.New("invalid log point format: empty evaluation string")
			}
			exprs = append(exprs, e)
			format.WriteString("%s")
		default:
			expr.WriteRune(r)
		}
	}
	if depth > 0 {
		return nil, errors.New("invalid log point format: unmatched '{'")
	}
	return &logMessage{format: format.String(), exprs: exprs}, nil
}

// setLogMessage records (or with nil forgets) the message of logpoint id.
func (b *breakpoints) setLogMessage(id int, m *logMessage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m == nil {
		delete(b.logs, id)
	} else {
		b.logs[id] = m
	}
}

func (b *breakpoints) logMessage(id int) *logMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.logs[id]
}

// logHits prints the message of every logpoint a thread of st stopped on
// and reports whether the stop was for logpoints only, so that the target
// goes on as if they were not there.
func (s *session) logHits(st *api.DebuggerState) bool {
	if st == nil || st.Exited || st.CurrentThread == nil {
		return false
	}
	s.flushKernelLogs()
	onlyLogs := true
	for _, th := range st.Threads {
		if th.Breakpoint == nil {
			continue
		}
		m := s.bps.logMessage(th.Breakpoint.ID)
		if m == nil {
			onlyLogs = false
			continue
		}
		s.send(&dap.OutputEvent{Event: event("output"), Body: dap.OutputEventBody{
			Category: "stdout",
			Output:   fmt.Sprintf("> [Go %d]: %s\n", th.GoroutineID, s.evalLog(m, th.GoroutineID)),
			Source:   &dap.Source{Path: s.opts.toClient(th.Breakpoint.File)},
			Line:     th.Breakpoint.Line,
		}})
	}
	cur := st.CurrentThread.Breakpoint
	return onlyLogs && cur != nil && s.bps.logMessage(cur.ID) != nil
}

// evalLog fills in a message's expressions in goroutine goid's frame.
func (s *session) evalLog(m *logMessage, goid int64) string {
	vals := make([]any, len(m.exprs))
	for i, e := range m.exprs {
		v, err := s.dbg.Eval(goid, 0, e, loadConfig)
		if err != nil {
			vals[i] = fmt.Sprintf("{eval err: %v}", err)
			continue
		}
		vals[i] = logText(v)
	}
	return fmt.Sprintf(m.format, vals...)
}
