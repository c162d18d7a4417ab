package trace

import (
	"encoding/json"
	"io"

	"github.com/tinydbg/tinydbg/pkg/proc/event"
)

// StatsJSON makes RunStats write to w one JSON object per table (a line
// each, as FORMAT.md describes) instead of text tables.
func StatsJSON(w io.Writer) io.Writer { return &statsJSON{w: w} }

// statsJSON marks the writer StatsJSON made; writes that are not tables
// pass through.
type statsJSON struct{ w io.Writer }

func (s *statsJSON) Write(p []byte) (int, error) { return s.w.Write(p) }

// statsObject is one table as JSON; see FORMAT.md.
type statsObject struct {
	Stats     string         `json:"stats"` // "interval" or "final"
	Backend   string         `json:"backend"`
	Functions []statsFuncObj `json:"functions"`
	NotCalled int            `json:"not_called"`
	Missed    uint64         `json:"missed"`
	Inlined   int            `json:"inlined"`
	// Incomplete is why the figures could not all be read, as the text
	// table's "figures incomplete" line.
	Incomplete string `json:"incomplete,omitempty"`
}

type statsFuncObj struct {
	Function string           `json:"function"`
	Calls    uint64           `json:"calls"`
	Paired   uint64           `json:"paired"`
	Unpaired uint64           `json:"unpaired"`
	Open     uint64           `json:"open"`
	Lost     uint64           `json:"lost"`
	Latency  *statsLatencyObj `json:"latency,omitempty"` // only with paired calls
}

// statsLatencyObj is a histogram: percentiles are the top of the bucket
// holding them (never above max), max and sum are exact.
type statsLatencyObj struct {
	P50     int64            `json:"p50_ns"`
	P90     int64            `json:"p90_ns"`
	P99     int64            `json:"p99_ns"`
	Max     int64            `json:"max_ns"`
	Sum     int64            `json:"sum_ns"`
	Buckets []statsBucketObj `json:"buckets"` // the non-empty ones, shortest first
}

type statsBucketObj struct {
	Lo    uint64 `json:"lo_ns"`
	Hi    uint64 `json:"hi_ns"`
	Count uint64 `json:"count"`
}

// writeStatsJSON writes one table as one JSON line, with the rows and
// counts of the text table.
func writeStatsJSON(w io.Writer, when string, r StatsResult) error {
	rows := statsRows(r)
	obj := statsObject{Stats: when, Backend: r.Summary.Backend, Functions: make([]statsFuncObj, 0, len(rows)),
		NotCalled: len(r.Funcs) - len(rows), Missed: r.Missed, Inlined: r.Inlined}
	if r.ReadErr != nil {
		obj.Incomplete = r.ReadErr.Error()
	}
	for _, f := range rows {
		h := &f.Hist
		fo := statsFuncObj{Function: f.Function, Calls: f.Calls, Paired: h.Count(), Unpaired: f.Unpaired, Open: f.Open, Lost: f.Lost}
		if fo.Paired > 0 {
			lat := &statsLatencyObj{P50: int64(h.Quantile(0.5)), P90: int64(h.Quantile(0.9)), P99: int64(h.Quantile(0.99)),
				Max: int64(h.Max), Sum: int64(h.Sum)}
			for i, n := range h.Counts {
				if n > 0 {
					lo, hi := event.BucketBounds(i)
					lat.Buckets = append(lat.Buckets, statsBucketObj{Lo: lo, Hi: hi, Count: n})
				}
			}
			fo.Latency = lat
		}
		obj.Functions = append(obj.Functions, fo)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
