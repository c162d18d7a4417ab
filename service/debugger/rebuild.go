package debugger

import (
	"errors"
	"fmt"

	"github.com/tinydbg/tinydbg/service/api"
)

// Rebuild compiles the program again and restarts it, breakpoints kept by
// their location (a function or line that no longer exists is discarded),
// as Delve's rebuild does. The build runs before the old process is
// killed: when it fails, the session goes on as it was.
func (d *Debugger) Rebuild(resetArgs bool, newArgs []string) ([]api.DiscardedBreakpoint, error) {
	if d.cfg.Rebuild == nil {
		return nil, errors.New("cannot rebuild a binary")
	}
	if err := d.cfg.Rebuild(); err != nil {
		return nil, fmt.Errorf("could not rebuild process: %w", err)
	}
	return d.Restart(resetArgs, newArgs)
}
