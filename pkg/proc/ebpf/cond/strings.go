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

// stringCompare compiles the comparison of strings: against a constant
// (up to 256 bytes), or against another string, whose common prefix is
// compared over at most MaxStringCompare bytes (beyond it: a fault). Bytes
// are compared 8 at a time as big-endian words, zero-padded: a padded tail
// ties only with zeros, and the lengths then decide, as Go's order does.
func (c *compiler) stringCompare(op token.Token, x, y *operand) (*operand, error) {
	if x.konst != nil {
		x, y = y, x
		op = mirror(op)
	}
	if x.pl == nil {
		return nil, notCompilable("string value not in memory or registers")
	}
	var k string
	isConst := y.konst != nil
	if isConst {
		if y.konst.Kind() != constant.String {
			return nil, notCompilable("can not convert %s constant to string", y.konst)
		}
		if k = constant.StringVal(y.konst); len(k) > maxStringConst {
			return nil, notCompilable("string constant longer than %d bytes", maxStringConst)
		}
	} else if y.pl == nil {
		return nil, notCompilable("string value not in memory or registers")
	}
	px, lx, err := c.stringHead(x.pl)
	if err != nil {
		return nil, err
	}
	py, ly := 0, 0
	if !isConst {
		if py, ly, err = c.stringHead(y.pl); err != nil {
			return nil, err
		}
	}
	lt, gt, eq, prefix, end := c.label(), c.label(), c.label(), c.label(), c.label()
	eqOp := op == token.EQL || op == token.NEQ
	// R7 = the common length; for == and != unequal lengths decide.
	c.emit(asm.LoadMem(asm.R7, asm.R10, slotOff(lx), asm.DWord))
	chunks := (c.opts.MaxStringCompare + 7) / 8
	if isConst {
		chunks = (len(k) + 7) / 8
		if eqOp {
			c.emit(asm.JNE.Imm(asm.R7, int32(len(k)), lt))
		}
		skip := c.label()
		c.emit(asm.JLE.Imm(asm.R7, int32(len(k)), skip), asm.Mov.Imm(asm.R7, int32(len(k))))
		c.mark(skip)
	} else {
		c.emit(asm.LoadMem(asm.R1, asm.R10, slotOff(ly), asm.DWord))
		if eqOp {
			c.emit(asm.JNE.Reg(asm.R7, asm.R1, lt))
		}
		skip := c.label()
		c.emit(asm.JLE.Reg(asm.R7, asm.R1, skip), asm.Mov.Reg(asm.R7, asm.R1))
		c.mark(skip)
		c.faultIf(func(l string) asm.Instruction { return asm.JGT.Imm(asm.R7, int32(8*chunks), l) })
	}
	for j := 0; j < chunks; j++ {
		c.emit(asm.JLE.Imm(asm.R7, int32(8*j), prefix))
		c.readChunk(px, lx, j, readSlot)
		if isConst {
			var w uint64
			for i := 0; i < 8 && 8*j+i < len(k); i++ {
				w |= uint64(k[8*j+i]) << (56 - 8*i) // big-endian
			}
			c.emit(asm.LoadImm(asm.R1, int64(w), asm.DWord))
		} else {
			c.readChunk(py, ly, j, readSlot2)
			c.emit(asm.LoadMem(asm.R1, asm.R10, slotOff(readSlot2), asm.DWord), asm.HostTo(asm.BE, asm.R1, asm.DWord))
		}
		c.emit(asm.LoadMem(asm0, asm.R10, slotOff(readSlot), asm.DWord), asm.HostTo(asm.BE, asm0, asm.DWord),
			asm.JLT.Reg(asm0, asm.R1, lt), asm.JGT.Reg(asm0, asm.R1, gt))
	}
	// The common prefix is equal: the shorter string is the smaller.
	c.mark(prefix)
	c.emit(asm.LoadMem(asm0, asm.R10, slotOff(lx), asm.DWord))
	if isConst {
		c.emit(asm.JLT.Imm(asm0, int32(len(k)), lt), asm.JGT.Imm(asm0, int32(len(k)), gt))
	} else {
		c.emit(asm.LoadMem(asm.R1, asm.R10, slotOff(ly), asm.DWord), asm.JLT.Reg(asm0, asm.R1, lt), asm.JGT.Reg(asm0, asm.R1, gt))
	}
	truth := func(l string, b bool) {
		c.mark(l)
		v := int32(0)
		if b {
			v = 1
		}
		c.emit(asm.Mov.Imm(asm0, v), asm.Ja.Label(end))
	}
	truth(eq, op == token.EQL || op == token.LEQ || op == token.GEQ)
	truth(lt, op == token.LSS || op == token.LEQ || op == token.NEQ)
	truth(gt, op == token.GTR || op == token.GEQ || op == token.NEQ)
	c.mark(end)
	return c.untypedBoolOf()
}

// readChunk reads chunk j (bytes [8j, 8j+8) cut at the length) of the
// string whose pointer and length are in slots ptr and length into slot
// dst, zero-padded; the caller checked that the length exceeds 8j.
func (c *compiler) readChunk(ptr, length, j, dst int) {
	ok := c.label()
	c.emit(asm.LoadMem(asm.R8, asm.R10, slotOff(length), asm.DWord), asm.Sub.Imm(asm.R8, int32(8*j)),
		asm.JLE.Imm(asm.R8, 8, ok), asm.Mov.Imm(asm.R8, 8))
	c.mark(ok)
	c.zeroSlot(dst)
	c.emit(asm.LoadMem(asm.R3, asm.R10, slotOff(ptr), asm.DWord), asm.Add.Imm(asm.R3, int32(8*j)))
	c.probeRead(dst, 0, asm.R8)
}

// mirror is the operator with its operands swapped.
func mirror(op token.Token) token.Token {
	switch op {
	case token.LSS:
		return token.GTR
	case token.GTR:
		return token.LSS
	case token.LEQ:
		return token.GEQ
	case token.GEQ:
		return token.LEQ
	}
	return op
}
