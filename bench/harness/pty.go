package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY allocates a pseudo-terminal pair. REPL start-up is timed on a
// terminal because that is what a user sees, and because a REPL reading a
// piped script (tinydbg's, for one) prints no prompt at all.
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("opening /dev/ptmx: %w", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlocking pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("opening pty slave: %w", err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: 160}); err != nil {
		master.Close()
		slave.Close()
		return nil, nil, fmt.Errorf("pty size: %w", err)
	}
	return master, slave, nil
}

// startSessionPTY starts path with a pseudo-terminal as its controlling
// terminal and standard streams; session.stdin writes to the terminal.
func startSessionPTY(path string, args []string) (*session, error) {
	master, slave, err := openPTY()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "TERM=xterm")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	s := &session{cmd: cmd, lines: make(chan string, 1024), stdin: master}
	s.start = time.Now()
	if err := cmd.Start(); err != nil {
		master.Close()
		slave.Close()
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	slave.Close()
	go func() {
		defer close(s.lines)
		for {
			buf := make([]byte, 32<<10)
			n, err := master.Read(buf)
			if n > 0 {
				s.lines <- string(buf[:n])
			}
			if err != nil { // EIO once the last slave descriptor closes
				return
			}
		}
	}()
	return s, nil
}
