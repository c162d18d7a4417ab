package ebpf

import (
	"unsafe"

	"github.com/tinydbg/tinydbg/internal/pidns"
)

// Go mirrors of the structures and constants shared with bpf/abi.h.
// Field order, sizes, padding and values must match the C declarations
// exactly; layout_test.go checks them against the BTF of the compiled
// object.

// Limits compiled into the BPF program.
const (
	maxOps      = 128   // capture operations per probe kind of a function
	maxPieces   = 12    // pieces (registers, stack runs) making up one value
	maxValue    = 64    // bytes of one register-assigned value
	maxData     = 16384 // captured bytes (segment headers included) per event
	maxSeg      = 4096  // bytes one segment may hold
	maxSegs     = 256   // segments per event
	maxSteps    = 2048  // interpreter steps per event
	maxDynOps   = 64    // operations of the plan of one dynamic type
	maxJobs     = 16    // dynamic-type plans run per event
	maxAllOps   = 512   // operations per event, dynamic ones included
	rootSrc     = 0xff  // capOp.Src of a dynamic plan's interface itself
	noLenOffset = 0xffff
	pieceStack  = 0xfe // capOp.Regs of a piece read from the stack
)

// Record sizes, as the decoder walks the ring buffer's bytes; the layout
// test checks the structs' sizes against C.
const (
	eventHeaderSize   = int(unsafe.Sizeof(eventHeader{}))
	segmentHeaderSize = int(unsafe.Sizeof(segmentHeader{}))
)

// Capture operation kinds (cap_op.kind).
const (
	opRegs  = 1 // assemble a value from registers
	opStack = 2 // copy a value from CFA + stack_off
	opDeref = 3 // follow a pointer held in an earlier segment
	opIface = 4 // run the plan of an interface's dynamic type
)

// How a deref's element count is stored (cap_op.len_kind).
const (
	lenCount = 0 // a 64-bit count
	lenLog2  = 1 // a byte B: 1 << B elements
	lenMask  = 2 // a 64-bit mask: mask + 1 elements
)

// Event kinds and flags (event_header.kind, .flags).
const (
	evCall        = 0
	evReturn      = 1
	probeCall     = 0 // attach cookie kinds (cookie = function index << 2 | kind)
	probeReturn   = 1
	probeBoth     = 2 // a site that is both the entry and a RET
	probeTail     = 3 // a tail JMP leaving the function
	evfTruncated  = 2
	evfTail       = 8
	segfNil       = 1
	segfUnread    = 2
	segfBadSource = 4
)

// Slots of the per-CPU drop counter array; each one is a field of Drops.
const (
	dropRingbuf = 0
	dropNoPlan  = 2
	numDrops    = 4
)

// pt_regs slots (u64 index into struct pt_regs on x86-64) of the general
// registers, indexed like probe.GeneralRegs: the nine the Go internal ABI
// assigns, then those a location list of an inlined call may also name.
var abiIntRegSlots = [...]uint8{10, 5, 11, 14, 13, 9, 8, 7, 6, 12, 4, 3, 2, 1, 0, 19}

// bpfConfig mirrors struct config.
type bpfConfig struct {
	Tgid          uint32
	GoidOffset    uint32
	StackHiOffset uint32
	WakeBytes     uint32
	HoldBytes     uint32 // 0: lossy, the program is never held
	Pad           uint32
	NsDev, NsIno  uint64 // tinydbg's pid namespace; 0 in the initial one
}

// configFor is the config of a program tracing pid from tinydbg's own pid
// namespace.
func configFor(pid int) (bpfConfig, error) {
	ns, err := pidns.Self()
	if err != nil {
		return bpfConfig{}, err
	}
	cfg := bpfConfig{Tgid: uint32(pid)}
	if !ns.Initial() {
		cfg.NsDev, cfg.NsIno = ns.Dev, ns.Ino
	}
	return cfg, nil
}

// holdState mirrors struct hold_state, the memory-mapped flag through
// which the BPF program tells the reader it stopped the process.
type holdState struct {
	Held    uint64
	SinceNs uint64
}

// capOp mirrors struct cap_op: one step of a capture plan.
type capOp struct {
	Kind      uint8
	Param     uint8
	Src       uint8
	NPieces   uint8
	Regs      [maxPieces]uint8
	PieceOff  [maxPieces]uint8
	PieceSize [maxPieces]uint8
	// PieceStack is SP+8-relative for a piece whose Regs entry is
	// pieceStack.
	PieceStack [maxPieces]int16
	StackOff   int32
	PtrOff     uint16
	LenOff     uint16
	Size       uint32
	Max        uint32
	Stride     uint16
	Count      uint16
	Stride2    uint16
	Count2     uint8
	LenKind    uint8
}

// bpfPlan mirrors struct plan: what one probe kind of one function captures.
type bpfPlan struct {
	NOps uint32
	Pad  uint32
	Ops  [maxOps]capOp
}

// dynPlan mirrors struct dyn_plan: what is captured of a value of one
// dynamic type found in an interface.
type dynPlan struct {
	NOps uint32
	Pad  uint32
	Ops  [maxDynOps]capOp
}

// eventHeader mirrors struct event_header, the start of every ring buffer
// record; data_len bytes of segments follow it.
type eventHeader struct {
	Goid     uint64
	TimeNs   uint64
	StackOff uint64
	Tid      uint32
	Cookie   uint32
	DataLen  uint16
	Kind     uint8
	Flags    uint8
	DropGen  uint32 // events of this function lost before this one
}

// dropGenOffset is where event_header.drop_gen lies in a record.
const dropGenOffset = int(unsafe.Offsetof(eventHeader{}.DropGen))

// segmentHeader mirrors struct segment; len bytes (padded to 8) follow it.
type segmentHeader struct {
	Addr  uint64
	Want  uint32
	Len   uint16
	Op    uint8
	Flags uint8
}
