// Drives the newest DAP capabilities with VS Code's own test client
// (@vscode/debugadapter-testsupport's DebugClient) against a DAP server
// already listening: `tinydbg dap`, `dlv dap`, or a headless server of
// either for the remote scenario.
//
//   node capabilities.js CONFIG_JSON
//
// CONFIG_JSON: port, scenario, program, source and what the scenario
// needs (see each function). Prints one line per check and exits 0 when
// all pass, 1 otherwise.
'use strict';
const assert = require('assert');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

const cfg = JSON.parse(process.argv[2]);

function withTimeout(what, p, ms = 60000) {
	let timer;
	return Promise.race([p, new Promise((_, reject) => {
		timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
	})]).finally(() => clearTimeout(timer));
}

// start launches (or attaches) and waits for the initialized event.
async function start(dc, attrs, request = 'launch') {
	const init = await dc.initializeRequest({ adapterID: 'go', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
	const initialized = dc.waitForEvent('initialized');
	if (request === 'launch') {
		await withTimeout('launch', dc.launchRequest(Object.assign({ request: 'launch', mode: 'exec', program: cfg.program, outputMode: 'remote' }, attrs)));
	} else {
		await withTimeout('attach', dc.attachRequest(Object.assign({ request: 'attach' }, attrs)));
	}
	await withTimeout('initialized event', initialized);
	return init.body;
}

// runToStop sends configurationDone (or continue) and returns the top
// frame of the stop, which must be for reason.
async function runToStop(dc, reason, threadId) {
	const stopped = dc.waitForEvent('stopped');
	if (threadId === undefined) {
		await dc.configurationDoneRequest();
	} else {
		await dc.continueRequest({ threadId });
	}
	const ev = await withTimeout('stopped event', stopped);
	assert.strictEqual(ev.body.reason, reason);
	const st = await dc.stackTraceRequest({ threadId: ev.body.threadId, startFrame: 0, levels: 1 });
	return Object.assign({ threadId: ev.body.threadId }, st.body.stackFrames[0]);
}

// logpoints: cfg.logpoints is [{line, logMessage}], cfg.logged the lines
// they print, in order; the program runs to its end without stopping.
async function logpoints(dc) {
	const caps = await start(dc, {});
	assert.ok(caps.supportsLogPoints, 'logpoints announced');
	const bps = await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: cfg.logpoints });
	assert.ok(bps.body.breakpoints.every(b => b.verified), 'logpoints verified');
	const logged = [];
	let stops = 0;
	dc.on('output', e => { if (e.body.output.startsWith('> ')) logged.push(e.body.output); });
	dc.on('stopped', () => { stops++; });
	const terminated = dc.waitForEvent('terminated');
	await dc.configurationDoneRequest();
	await withTimeout('terminated event', terminated);
	assert.strictEqual(stops, 0, 'never reported stopped');
	assert.deepStrictEqual(logged, cfg.logged);
	console.log(`logged ${logged.length} lines`);
}

// data: a write data breakpoint on cfg.watch, set when stopped at
// cfg.line, stops after each write (cfg.after, the line then).
async function data(dc) {
	const caps = await start(dc, {});
	assert.ok(caps.supportsDataBreakpoints, 'data breakpoints announced');
	await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: [{ line: cfg.line }] });
	let top = await runToStop(dc, 'breakpoint');
	await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: [] });
	const info = await dc.customRequest('dataBreakpointInfo', { name: cfg.watch, frameId: top.id });
	assert.ok(info.body.dataId, 'a data id');
	assert.ok(info.body.accessTypes.includes('write'));
	const set = await dc.customRequest('setDataBreakpoints', { breakpoints: [{ dataId: info.body.dataId, accessType: 'write' }] });
	assert.ok(set.body.breakpoints[0].verified, 'data breakpoint verified');
	for (const want of cfg.values) {
		top = await runToStop(dc, 'data breakpoint', top.threadId);
		assert.strictEqual(top.line, cfg.after);
		const ev = await dc.evaluateRequest({ expression: cfg.watch, frameId: top.id, context: 'repl' });
		assert.strictEqual(ev.body.result, want);
		console.log(`${cfg.watch} = ${want} at line ${top.line}`);
	}
	await dc.disconnectRequest({ terminateDebuggee: true });
}

// memory: at cfg.line, with cfg.readCode, readMemory shows the program's
// own bytes at the pc (those of the file: .text at cfg.textAddr is at
// cfg.textOff in it, not the int3 of the breakpoint there); disassemble
// starts there, and an instruction breakpoint two instructions on stops
// there.
async function memory(dc) {
	const caps = await start(dc, {});
	assert.ok(caps.supportsReadMemoryRequest && caps.supportsDisassembleRequest && caps.supportsInstructionBreakpoints);
	await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: [{ line: cfg.line }] });
	const top = await runToStop(dc, 'breakpoint');
	const pc = top.instructionPointerReference;
	if (cfg.readCode) {
		const fs = require('fs');
		const fd = fs.openSync(cfg.program, 'r');
		const own = Buffer.alloc(8);
		fs.readSync(fd, own, 0, 8, Number(BigInt(pc) - BigInt(cfg.textAddr)) + cfg.textOff);
		fs.closeSync(fd);
		const bytes = own.toString('hex');
		assert.notStrictEqual(bytes.slice(0, 2), 'cc', 'the file has no int3 there');
		const mem = await dc.customRequest('readMemory', { memoryReference: pc, count: 8 });
		assert.strictEqual(Buffer.from(mem.body.data, 'base64').toString('hex'), bytes);
		console.log(`readMemory ${pc}: ${bytes}`);
	}
	const dis = await dc.customRequest('disassemble', { memoryReference: pc, instructionCount: 3 });
	const insts = dis.body.instructions;
	assert.strictEqual(BigInt(insts[0].address), BigInt(pc));
	assert.notStrictEqual(insts[0].instructionBytes.slice(0, 2), 'cc', 'disassembly of the program\'s bytes, not the int3');
	console.log(`disassemble ${pc}: ${insts[0].instruction}`);
	await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: [] });
	const target = insts[2].address;
	const ib = await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: target }] });
	assert.ok(ib.body.breakpoints[0].verified, 'instruction breakpoint verified');
	const at = await runToStop(dc, 'instruction breakpoint', top.threadId);
	assert.strictEqual(BigInt(at.instructionPointerReference), BigInt(target));
	console.log(`stopped at ${target}`);
	await dc.disconnectRequest({ terminateDebuggee: true });
}

// filters: with goroutineFilters cfg.filters the threads at cfg.func are
// those cfg.threads (a regexp over the names joined by "|") matches.
async function filters(dc) {
	await start(dc, { goroutineFilters: cfg.filters });
	await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: cfg.func }] });
	await runToStop(dc, 'function breakpoint');
	const th = await dc.threadsRequest();
	const names = th.body.threads.map(t => t.name).join('|');
	assert.match(names, new RegExp(cfg.threads));
	console.log(`threads ${names}`);
	await dc.disconnectRequest({ terminateDebuggee: true });
}

// restart: attached in mode remote to a multi-client server, stopped at
// cfg.line, a restart starts the program again: it stops there again.
async function restart(dc) {
	await start(dc, { mode: 'remote', stopOnEntry: false }, 'attach');
	await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: [{ line: cfg.line }] });
	let top = await runToStop(dc, 'breakpoint');
	const initialized = dc.waitForEvent('initialized');
	await withTimeout('restart', dc.customRequest('restart', {}));
	await withTimeout('initialized after restart', initialized);
	console.log('restarted');
	await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: [{ line: cfg.line }] });
	top = await runToStop(dc, 'breakpoint');
	assert.strictEqual(top.line, cfg.line);
	console.log(`stopped again at ${top.name}:${top.line}`);
	await dc.disconnectRequest({ terminateDebuggee: true });
}

// exceptions: with the exception filter cfg.filter set, the program stops
// on its exception; exceptionInfo says cfg.exceptionId and cfg.text.
async function exceptions(dc) {
	const caps = await start(dc, {});
	assert.ok(caps.supportsExceptionInfoRequest);
	assert.ok(caps.exceptionBreakpointFilters.some(f => f.filter === cfg.filter), `filter ${cfg.filter} advertised`);
	await dc.setExceptionBreakpointsRequest({ filters: [cfg.filter] });
	const stopped = dc.waitForEvent('stopped');
	await dc.configurationDoneRequest();
	const ev = await withTimeout('stopped event', stopped);
	assert.strictEqual(ev.body.reason, 'exception');
	assert.strictEqual(ev.body.text, cfg.text);
	const info = await dc.customRequest('exceptionInfo', { threadId: ev.body.threadId });
	assert.strictEqual(info.body.exceptionId, cfg.exceptionId);
	assert.strictEqual(info.body.description, cfg.text);
	console.log(`exception ${info.body.exceptionId}: ${info.body.description}`);
	await dc.disconnectRequest({ terminateDebuggee: true });
}

// stepInstruction: stopped at cfg.line, a next with granularity
// instruction moves to the second instruction of the disassembly there.
async function stepInstruction(dc) {
	const caps = await start(dc, {});
	assert.ok(caps.supportsSteppingGranularity);
	await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: [{ line: cfg.line }] });
	const top = await runToStop(dc, 'breakpoint');
	const dis = await dc.customRequest('disassemble', { memoryReference: top.instructionPointerReference, instructionCount: 2 });
	const next = dis.body.instructions[1].address;
	const stopped = dc.waitForEvent('stopped');
	await dc.nextRequest({ threadId: top.threadId, granularity: 'instruction' });
	const ev = await withTimeout('stopped event', stopped);
	assert.strictEqual(ev.body.reason, 'step');
	const st = await dc.stackTraceRequest({ threadId: top.threadId, startFrame: 0, levels: 1 });
	assert.strictEqual(BigInt(st.body.stackFrames[0].instructionPointerReference), BigInt(next));
	console.log(`one instruction: ${top.instructionPointerReference} -> ${next}`);
	await dc.disconnectRequest({ terminateDebuggee: true });
}

// writeMemory: stopped at cfg.line, cfg.bytes[1] is overwritten with 'o'
// through the memoryReference of the global cfg.global; readMemory then
// reads cfg.after.
async function writeMemory(dc) {
	const caps = await start(dc, { showGlobalVariables: true });
	assert.ok(caps.supportsWriteMemoryRequest);
	await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: [{ line: cfg.line }] });
	const top = await runToStop(dc, 'breakpoint');
	const scopes = await dc.scopesRequest({ frameId: top.id });
	const globals = scopes.body.scopes.find(s => s.name === 'Globals (package main)');
	const vars = await dc.variablesRequest({ variablesReference: globals.variablesReference });
	const v = vars.body.variables.find(x => x.name === cfg.global);
	assert.ok(v && v.memoryReference, `memoryReference of ${cfg.global}`);
	const w = await dc.customRequest('writeMemory', { memoryReference: v.memoryReference, offset: 1, data: Buffer.from('o').toString('base64') });
	assert.strictEqual(w.body.bytesWritten, 1);
	const mem = await dc.customRequest('readMemory', { memoryReference: v.memoryReference, count: cfg.after.length });
	assert.strictEqual(Buffer.from(mem.body.data, 'base64').toString(), cfg.after);
	console.log(`${cfg.global} now ${cfg.after}`);
	await dc.disconnectRequest({ terminateDebuggee: true });
}

// relaunch: a launched program stopped at cfg.line is restarted (as
// vscode-go does, with the launch configuration; rebuild false, which
// dlv needs in mode exec) and stops there again.
async function relaunch(dc) {
	const caps = await start(dc, {});
	assert.ok(caps.supportsRestartRequest);
	await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: [{ line: cfg.line }] });
	await runToStop(dc, 'breakpoint');
	const initialized = dc.waitForEvent('initialized');
	await withTimeout('restart', dc.customRequest('restart', { arguments: { request: 'launch', mode: 'exec', program: cfg.program, rebuild: false } }));
	await withTimeout('initialized after restart', initialized);
	await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: [{ line: cfg.line }] });
	const top = await runToStop(dc, 'breakpoint');
	assert.strictEqual(top.line, cfg.line);
	console.log(`restarted, stopped again at ${top.name}:${top.line}`);
	await dc.disconnectRequest({ terminateDebuggee: true });
}

async function main() {
	const dc = new DebugClient('unused', 'unused', 'go');
	await withTimeout('connecting', dc.start(cfg.port));
	let finished = false;
	const socket = dc._socket;
	socket.on('error', err => {
		if (!finished) {
			console.log(`FAIL: connection: ${err}`);
			process.exit(1);
		}
	});
	const scenarios = { logpoints, data, memory, filters, restart, exceptions, stepInstruction, writeMemory, relaunch };
	try {
		await scenarios[cfg.scenario](dc);
	} finally {
		finished = true;
		socket.end();
	}
	console.log('PASS');
}

main().then(() => process.exit(0), err => {
	console.log(`FAIL: ${err && err.stack || err}`);
	process.exit(1);
});
