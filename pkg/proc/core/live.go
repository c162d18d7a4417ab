package core

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// LiveSnapshot gathers from /proc what a Snapshot of the live process pid
// needs besides its threads and memory: the mappings, the auxiliary
// vector and the command line.
func LiveSnapshot(pid int) (Snapshot, error) {
	s := Snapshot{Pid: pid}
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return s, fmt.Errorf("reading mappings: %w", err)
	}
	if s.Mappings, err = parseMaps(maps); err != nil {
		return s, err
	}
	if s.Auxv, err = os.ReadFile(fmt.Sprintf("/proc/%d/auxv", pid)); err != nil {
		return s, fmt.Errorf("reading the auxiliary vector: %w", err)
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	s.Name = strings.TrimSpace(string(comm))
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	s.Args = strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
	return s, nil
}

// parseMaps decodes /proc/PID/maps lines such as
// "00400000-004c0000 r-xp 00000000 fd:01 1234   /path/to/exe".
func parseMaps(data []byte) ([]Mapping, error) {
	var out []Mapping
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		off, err3 := strconv.ParseUint(f[2], 16, 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil || len(f[1]) < 3 {
			return nil, fmt.Errorf("malformed mapping %q", sc.Text())
		}
		m := Mapping{Start: start, End: end, Offset: off, Read: f[1][0] == 'r', Write: f[1][1] == 'w', Exec: f[1][2] == 'x'}
		if len(f) >= 6 {
			m.Path = strings.Join(f[5:], " ")
		}
		out = append(out, m)
	}
	return out, sc.Err()
}
