package terminal

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// sourceCache keeps the lines of source files listed at stops: a session
// lists the same few files at every breakpoint, and reading one again costs
// an open, reads and a close each time. A file whose size or modification
// time changed (the user edited it) is read again.
type sourceCache struct {
	files map[string]*cachedSource
}

type cachedSource struct {
	size  int64
	mtime time.Time
	lines []string
}

// maxCachedSources bounds the cache; past it the cache starts over.
const maxCachedSources = 64

// lines returns the lines of the file at path.
func (c *sourceCache) lines(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("listing source: %w", err)
	}
	if cs := c.files[path]; cs != nil && cs.size == fi.Size() && cs.mtime.Equal(fi.ModTime()) {
		return cs.lines, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("listing source: %w", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("listing source: %w", err)
	}
	if c.files == nil || len(c.files) >= maxCachedSources {
		c.files = map[string]*cachedSource{}
	}
	c.files[path] = &cachedSource{size: fi.Size(), mtime: fi.ModTime(), lines: lines}
	return lines, nil
}

// wdCache remembers the working directory formatPath shortens paths
// against: os.Getwd costs two stats per call and the banner of every stop
// calls it. It is keyed by $PWD, which a chdir through the shell or
// testing.T.Chdir updates; tinydbg itself never changes directory.
var wdCache struct {
	sync.Mutex
	pwd, wd string
	ok      bool
}

// workingDir returns the current directory, "" when unknown.
func workingDir() string {
	pwd := os.Getenv("PWD")
	wdCache.Lock()
	defer wdCache.Unlock()
	if wdCache.ok && wdCache.pwd == pwd {
		return wdCache.wd
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	wdCache.pwd, wdCache.wd, wdCache.ok = pwd, wd, true
	return wd
}

// trimPrefixDir returns path relative to dir as "./rel" when path is under
// dir, and path unchanged otherwise.
func trimPrefixDir(path, dir string) string {
	if dir == "" || dir == "/" || !strings.HasPrefix(path, dir+"/") {
		return path
	}
	return "." + path[len(dir):]
}
