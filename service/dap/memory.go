package dap

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"

	"github.com/google/go-dap"

	"github.com/tinydbg/tinydbg/service/api"
)

// maxReadMemory is the most bytes one readMemory returns, the debugger's
// limit for one read; the rest is reported unreadable and the client asks
// again from there.
const maxReadMemory = 1 << 16

// onReadMemory answers with the program's bytes at memoryReference (an
// address, as stack frames' instructionPointerReference give it) plus
// offset. Breakpoint instructions the debugger wrote are not shown: the
// bytes are those the program has.
func (s *session) onReadMemory(r *dap.ReadMemoryRequest) {
	fail := func(details string) {
		s.sendError(r.Request, errReadMemory, "Unable to read memory", details, false)
	}
	base, err := strconv.ParseUint(r.Arguments.MemoryReference, 0, 64)
	if err != nil {
		fail(fmt.Sprintf("invalid memoryReference %q", r.Arguments.MemoryReference))
		return
	}
	if r.Arguments.Count < 0 {
		fail("negative count")
		return
	}
	addr := uint64(int64(base) + int64(r.Arguments.Offset))
	n := min(r.Arguments.Count, maxReadMemory)
	var data []byte
	if n > 0 {
		data, err = s.dbg.ExamineMemory(addr, n)
		if err != nil {
			fail(err.Error())
			return
		}
	}
	body := dap.ReadMemoryResponseBody{Address: fmt.Sprintf("%#x", addr), UnreadableBytes: r.Arguments.Count - len(data)}
	if len(data) > 0 {
		body.Data = base64.StdEncoding.EncodeToString(data)
	}
	s.send(&dap.ReadMemoryResponse{Response: s.response(r.Request), Body: body})
}

// onDisassemble answers instructionCount instructions starting
// instructionOffset instructions from memoryReference, decoded from the
// executable (so without our breakpoints) within the function there; as
// in Delve, places outside it are "invalid instruction" entries, at
// address 0 before and at the highest address after.
func (s *session) onDisassemble(r *dap.DisassembleRequest) {
	args := r.Arguments
	addr, err := strconv.ParseUint(args.MemoryReference, 0, 64)
	if err != nil {
		s.sendError(r.Request, errDisassemble, "Unable to disassemble", fmt.Sprintf("invalid memoryReference %q", args.MemoryReference), false)
		return
	}
	addr = uint64(int64(addr) + int64(args.Offset))
	if args.InstructionCount < 0 {
		s.sendError(r.Request, errDisassemble, "Unable to disassemble", "negative instructionCount", false)
		return
	}
	insts, err := s.dbg.Disassemble(addr, 0, api.GoFlavour)
	if err != nil {
		s.sendError(r.Request, errDisassemble, "Unable to disassemble", err.Error(), false)
		return
	}
	ref := -1
	for i, in := range insts {
		if in.Loc.PC == addr {
			ref = i
		}
	}
	if ref < 0 {
		s.sendError(r.Request, errDisassemble, "Unable to disassemble", fmt.Sprintf("no instruction starts at %#x", addr), false)
		return
	}
	out := make([]dap.DisassembledInstruction, args.InstructionCount)
	lastFile, lastLine := "", -1
	for i := range out {
		j := ref + args.InstructionOffset + i
		switch {
		case j < 0:
			out[i] = dap.DisassembledInstruction{Address: "0x0", Instruction: "invalid instruction"}
		case j >= len(insts):
			out[i] = dap.DisassembledInstruction{Address: fmt.Sprintf("%#x", uint64(math.MaxUint64)), Instruction: "invalid instruction"}
		default:
			in := insts[j]
			out[i] = dap.DisassembledInstruction{Address: fmt.Sprintf("%#x", in.Loc.PC),
				InstructionBytes: fmt.Sprintf("%x", in.Bytes), Instruction: in.Text}
			if in.Loc.File != lastFile || in.Loc.Line != lastLine {
				path := s.opts.toClient(in.Loc.File)
				out[i].Location = &dap.Source{Path: path}
				out[i].Line = in.Loc.Line
				lastFile, lastLine = in.Loc.File, in.Loc.Line
			}
		}
	}
	s.send(&dap.DisassembleResponse{Response: s.response(r.Request), Body: dap.DisassembleResponseBody{Instructions: out}})
}

// onWriteMemory writes base64 data at memoryReference (an address) plus
// offset, answering Delve's bytesWritten; the values shown before are
// then stale, which an invalidated event tells a client that listens.
func (s *session) onWriteMemory(r *dap.WriteMemoryRequest) {
	fail := func(details string) {
		s.sendError(r.Request, errWriteMemory, "Unable to write memory", details, false)
	}
	args := r.Arguments
	if args.Data == "" {
		fail("empty data")
		return
	}
	base, err := strconv.ParseUint(args.MemoryReference, 0, 64)
	if err != nil {
		fail("unknown memoryReference")
		return
	}
	data, err := base64.StdEncoding.DecodeString(args.Data)
	if err != nil {
		fail(err.Error())
		return
	}
	n, err := s.dbg.WriteMemory(uint64(int64(base)+int64(args.Offset)), data)
	s.state.forgetThreads() // the bytes may be the runtime's goroutines
	if err != nil {
		fail(err.Error())
		return
	}
	s.send(&dap.WriteMemoryResponse{Response: s.response(r.Request), Body: dap.WriteMemoryResponseBody{BytesWritten: n}})
	if s.clientCaps.SupportsInvalidatedEvent {
		s.send(&dap.InvalidatedEvent{Event: event("invalidated"), Body: dap.InvalidatedEventBody{Areas: []dap.InvalidatedAreas{"variables"}}})
	}
}
