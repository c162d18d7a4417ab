// Drives one debug session over DAP with VS Code's own test client
// (@vscode/debugadapter-testsupport's DebugClient, the one vscode-go's tests
// use), against a DAP server already listening on PORT: `tinydbg dap`,
// `dlv dap`, or a headless server of either (attach in mode "remote").
//
//   node session.js launch-exec|attach-remote PORT BINARY SOURCE
//
// Prints one line per check and exits 0 when all pass, 1 otherwise.
'use strict';
const assert = require('assert');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

const [scenario, port, binary, source] = process.argv.slice(2);

// withTimeout fails a step that hangs: in server mode DebugClient has none.
function withTimeout(what, p, ms = 30000) {
	let timer;
	return Promise.race([p, new Promise((_, reject) => {
		timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
	})]).finally(() => clearTimeout(timer));
}

async function stoppedAtAdd(dc) {
	const stopped = await withTimeout('stopped event', dc.waitForEvent('stopped'));
	assert.strictEqual(stopped.body.reason, 'breakpoint');
	const threadId = stopped.body.threadId;
	const st = await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 20 });
	const top = st.body.stackFrames[0];
	assert.strictEqual(top.name, 'main.add');
	assert.strictEqual(top.line, 14);
	assert.strictEqual(top.source.path, source);
	console.log(`stopped at ${top.name}:${top.line}`);
	const scopes = await dc.scopesRequest({ frameId: top.id });
	assert.deepStrictEqual(scopes.body.scopes.map(s => s.name), ['Locals']);
	const vars = await dc.variablesRequest({ variablesReference: scopes.body.scopes[0].variablesReference });
	const names = vars.body.variables.map(v => v.name);
	// Delve's layout: arguments first, then the result, then the locals
	// (sum is not in scope before its line has run).
	assert.deepStrictEqual(names, ['a', 'b', '~r0']);
	console.log(`Locals: ${names.join(' ')}`);
	const ev = await dc.evaluateRequest({ expression: 'a+b', frameId: top.id, context: 'repl' });
	assert.strictEqual(ev.body.result, '7');
	console.log(`a+b = ${ev.body.result}`);
	const threads = await dc.threadsRequest();
	assert.ok(threads.body.threads.some(t => t.id === threadId), 'the stopped goroutine is a thread');
	return threadId;
}

async function setBreakpoint(dc) {
	const bps = await dc.setBreakpointsRequest({ source: { path: source }, breakpoints: [{ line: 14 }] });
	assert.strictEqual(bps.body.breakpoints.length, 1);
	assert.ok(bps.body.breakpoints[0].verified, 'breakpoint verified');
	assert.strictEqual(bps.body.breakpoints[0].line, 14);
}

async function launchExec(dc) {
	const init = await dc.initializeRequest({ adapterID: 'go', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
	assert.ok(init.body.supportsConfigurationDoneRequest);
	const initialized = dc.waitForEvent('initialized');
	await dc.launchRequest({ request: 'launch', mode: 'exec', program: binary, args: ['x'], showGlobalVariables: false, stopOnEntry: false,
		// dlv sends the program's output to the client only when asked to.
		outputMode: 'remote' });
	await withTimeout('initialized event', initialized);
	await setBreakpoint(dc);
	await dc.configurationDoneRequest();
	const threadId = await stoppedAtAdd(dc);
	const exited = dc.waitForEvent('exited');
	const terminated = dc.waitForEvent('terminated');
	// Listening before the program runs: its output may come at once.
	const output = dc.assertOutput('stdout', 'pt(6,8) 7 14\nargs: [x]\n');
	await dc.continueRequest({ threadId });
	await withTimeout('program output', output);
	const ex = await withTimeout('exited event', exited);
	assert.strictEqual(ex.body.exitCode, 0);
	await withTimeout('terminated event', terminated);
	console.log('exited 0');
	await dc.disconnectRequest({});
}

async function attachRemote(dc) {
	await dc.initializeRequest({ adapterID: 'go', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
	const initialized = dc.waitForEvent('initialized');
	await dc.attachRequest({ request: 'attach', mode: 'remote', stopOnEntry: false });
	await withTimeout('initialized event', initialized);
	await setBreakpoint(dc);
	await dc.configurationDoneRequest();
	await stoppedAtAdd(dc);
	await dc.disconnectRequest({ terminateDebuggee: true });
	console.log('disconnected, debuggee terminated');
}

async function main() {
	const dc = new DebugClient('unused', 'unused', 'go');
	await withTimeout('connecting', dc.start(Number(port)));
	// The server closes the connection after disconnect; a reset then is
	// no failure, before it is.
	let finished = false;
	const socket = dc._socket;
	socket.on('error', err => {
		if (!finished) {
			console.log(`FAIL: connection: ${err}`);
			process.exit(1);
		}
	});
	try {
		if (scenario === 'launch-exec') {
			await launchExec(dc);
		} else if (scenario === 'attach-remote') {
			await attachRemote(dc);
		} else {
			throw new Error(`unknown scenario ${scenario}`);
		}
		finished = true;
	} finally {
		finished = true;
		// Not dc.stop(): it sends a second disconnect.
		socket.end();
	}
	console.log('PASS');
}

main().then(() => process.exit(0), err => {
	console.log(`FAIL: ${err && err.stack || err}`);
	process.exit(1);
});
