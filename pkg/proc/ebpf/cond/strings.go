package cond

import (
	"go/constant"
	"go/token"

	"github.com/cilium/ebpf/asm"
)

// maxStringRead is the evaluator's bound on a string it computes with.
const maxStringRead = 1 << 20

// stringHead loads a string's header into slots and checks what the
// evaluator's read of the whole string would find: a length in [0, 1 MiB]
// and readable bytes. The evaluator reads every byte; the code reads the
// first and the last one, which finds an unreadable string unless a hole
// lies inside it.
func (c *compiler) stringHead(pl *place) (ptr, length int, err error) {
	if err := c.loadWord(pl, 8, 8, true, asm.R7); err != nil {
		return 0, 0, err
	}
	c.faultIf(func(l string) asm.Instruction { return asm.JSLT.Imm(asm.R7, 0, l) })
	c.faultIf(func(l string) asm.Instruction { return asm.JGT.Imm(asm.R7, maxStringRead, l) })
	if ptr, err = c.wordSlot(pl, 0); err != nil {
		return 0, 0, err
	}
	skip := c.label()
	c.emit(asm.JEq.Imm(asm.R7, 0, skip))
	c.emit(asm.LoadMem(asm.R3, asm.R10, slotOff(ptr), asm.DWord))
	c.probeRead(readSlot, 1, asm.R0)
	c.emit(asm.LoadMem(asm.R3, asm.R10, slotOff(ptr), asm.DWord), asm.Add.Reg(asm.R3, asm.R7), asm.Add.Imm(asm.R3, -1))
	c.probeRead(readSlot, 1, asm.R0)
	c.mark(skip)
	length, err = c.store(asm.R7)
	return ptr, length, err
}

// zeroSlot clears a slot a short read is about to fill in part.
func (c *compiler) zeroSlot(s int) {
	c.emit(asm.StoreImm(asm.R10, slotOff(s), 0, asm.Word), asm.StoreImm(asm.R10, slotOff(s)+4, 0, asm.Word))
}

// stringCompare compiles == and != of strings: against a constant, or
// against another string of at most MaxStringCompare bytes.
func (c *compiler) stringCompare(op token.Token, x, y *operand) (*operand, error) {
	if op != token.EQL && op != token.NEQ {
		return nil, notCompilable("string ordering")
	}
	if x.konst != nil {
		x, y = y, x
	}
	if x.pl == nil {
		return nil, notCompilable("string value not in memory or registers")
	}
	ne, end := c.label(), c.label()
	if y.konst != nil {
		if y.konst.Kind() != constant.String {
			return nil, notCompilable("can not convert %s constant to string", y.konst)
		}
		k := constant.StringVal(y.konst)
		if len(k) > maxStringConst {
			return nil, notCompilable("string constant longer than %d bytes", maxStringConst)
		}
		ptr, length, err := c.stringHead(x.pl)
		if err != nil {
			return nil, err
		}
		c.emit(asm.LoadMem(asm.R7, asm.R10, slotOff(length), asm.DWord), asm.JNE.Imm(asm.R7, int32(len(k)), ne))
		for j := 0; j < len(k); j += 8 {
			n := min(8, len(k)-j)
			c.zeroSlot(readSlot)
			var chunk uint64
			for i := 0; i < n; i++ {
				chunk |= uint64(k[j+i]) << (8 * i)
			}
			c.emit(asm.LoadMem(asm.R3, asm.R10, slotOff(ptr), asm.DWord), asm.Add.Imm(asm.R3, int32(j)))
			c.probeRead(readSlot, int32(n), asm.R0)
			c.emit(asm.LoadMem(asm0, asm.R10, slotOff(readSlot), asm.DWord),
				asm.LoadImm(asm.R1, int64(chunk), asm.DWord), asm.JNE.Reg(asm0, asm.R1, ne))
		}
	} else {
		if y.pl == nil {
			return nil, notCompilable("string value not in memory or registers")
		}
		px, lx, err := c.stringHead(x.pl)
		if err != nil {
			return nil, err
		}
		py, ly, err := c.stringHead(y.pl)
		if err != nil {
			return nil, err
		}
		max := c.opts.MaxStringCompare
		eq := c.label()
		c.emit(asm.LoadMem(asm.R7, asm.R10, slotOff(lx), asm.DWord), asm.LoadMem(asm.R1, asm.R10, slotOff(ly), asm.DWord),
			asm.JNE.Reg(asm.R7, asm.R1, ne))
		c.faultIf(func(l string) asm.Instruction { return asm.JGT.Imm(asm.R7, int32(max), l) })
		for j := 0; j < max; j += 8 {
			ok := c.label()
			c.emit(asm.JLE.Imm(asm.R7, int32(j), eq),
				asm.Mov.Reg(asm.R8, asm.R7), asm.Sub.Imm(asm.R8, int32(j)),
				asm.JLE.Imm(asm.R8, 8, ok), asm.Mov.Imm(asm.R8, 8))
			c.mark(ok)
			c.zeroSlot(readSlot)
			c.zeroSlot(readSlot2)
			c.emit(asm.LoadMem(asm.R3, asm.R10, slotOff(px), asm.DWord), asm.Add.Imm(asm.R3, int32(j)))
			c.probeRead(readSlot, 0, asm.R8)
			c.emit(asm.LoadMem(asm.R3, asm.R10, slotOff(py), asm.DWord), asm.Add.Imm(asm.R3, int32(j)))
			c.probeRead(readSlot2, 0, asm.R8)
			c.emit(asm.LoadMem(asm0, asm.R10, slotOff(readSlot), asm.DWord),
				asm.LoadMem(asm.R1, asm.R10, slotOff(readSlot2), asm.DWord), asm.JNE.Reg(asm0, asm.R1, ne))
		}
		c.mark(eq)
	}
	c.emit(asm.Mov.Imm(asm0, 1), asm.Ja.Label(end))
	c.mark(ne)
	c.emit(asm.Mov.Imm(asm0, 0))
	c.mark(end)
	if op == token.NEQ {
		c.emit(asm.Xor.Imm(asm0, 1))
	}
	return c.untypedBoolOf()
}
