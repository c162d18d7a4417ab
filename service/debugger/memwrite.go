package debugger

import (
	"errors"
	"fmt"
)

// errWriteCore refuses to change a core file's memory: it is a record.
var errWriteCore = errors.New("can not write to core process") // as Set refuses

// WriteMemory writes data into the program at addr and returns how many
// bytes were written. The executable's code is refused: the debugger's
// breakpoint instructions live there, and a write would silently lose
// them or be undone when they are removed.
func (d *Debugger) WriteMemory(addr uint64, data []byte) (int, error) {
	if d.IsCore() {
		return 0, errWriteCore
	}
	t, unlock, err := d.lockAlive()
	if err != nil {
		return 0, err
	}
	defer unlock()
	if len(data) == 0 {
		return 0, nil
	}
	for i := range data {
		if _, err := d.readCode(addr+uint64(i), 1); err == nil {
			return 0, fmt.Errorf("%#x is inside the executable's code, which can not be written", addr+uint64(i))
		}
	}
	n, err := t.Process().WriteMemory(addr, data)
	d.forgetG() // the bytes may be the runtime's goroutine structures
	if err != nil {
		return n, fmt.Errorf("writing %d bytes at %#x: %w", len(data), addr, err)
	}
	return n, nil
}
