// Drives one debug session over DAP with VS Code's own test client
// (@vscode/debugadapter-testsupport's DebugClient, the one vscode-go's tests
// use), against a DAP server already listening: `tinydbg dap`, `dlv dap`,
// or a headless server of either (attach in mode "remote").
//
//   node session.js CONFIG_JSON
//
// CONFIG_JSON says what to do and expect:
//   port, request ("launch" or "attach"), attrs (the launch or attach
//   attributes), source and line (a breakpoint), func (where it stops),
//   locals (the names of the Locals scope, in order), eval and result (an
//   expression there), then either output and exitCode (continue to the
//   end) or terminate (disconnect, ending the debuggee).
//
// Prints one line per check and exits 0 when all pass, 1 otherwise.
'use strict';
const assert = require('assert');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

const cfg = JSON.parse(process.argv[2]);

// withTimeout fails a step that hangs: in server mode DebugClient has none.
function withTimeout(what, p, ms = 60000) {
	let timer;
	return Promise.race([p, new Promise((_, reject) => {
		timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
	})]).finally(() => clearTimeout(timer));
}

async function session(dc) {
	const init = await dc.initializeRequest({ adapterID: 'go', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
	assert.ok(init.body.supportsConfigurationDoneRequest);
	const initialized = dc.waitForEvent('initialized');
	if (cfg.request === 'launch') {
		await withTimeout('launch', dc.launchRequest(Object.assign({ request: 'launch' }, cfg.attrs)));
	} else {
		await withTimeout('attach', dc.attachRequest(Object.assign({ request: 'attach' }, cfg.attrs)));
	}
	await withTimeout('initialized event', initialized);
	const bps = await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: [{ line: cfg.line }] });
	assert.strictEqual(bps.body.breakpoints.length, 1);
	assert.ok(bps.body.breakpoints[0].verified, 'breakpoint verified');
	assert.strictEqual(bps.body.breakpoints[0].line, cfg.line);
	const stoppedEvent = dc.waitForEvent('stopped');
	await dc.configurationDoneRequest();
	const stopped = await withTimeout('stopped event', stoppedEvent);
	assert.strictEqual(stopped.body.reason, 'breakpoint');
	const threadId = stopped.body.threadId;
	const st = await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 20 });
	const top = st.body.stackFrames[0];
	assert.strictEqual(top.name, cfg.func);
	assert.strictEqual(top.line, cfg.line);
	assert.strictEqual(top.source.path, cfg.source);
	console.log(`stopped at ${top.name}:${top.line}`);
	const scopes = await dc.scopesRequest({ frameId: top.id });
	assert.deepStrictEqual(scopes.body.scopes.map(s => s.name), ['Locals']);
	const vars = await dc.variablesRequest({ variablesReference: scopes.body.scopes[0].variablesReference });
	// Delve's layout: arguments first, then results, then the locals.
	assert.deepStrictEqual(vars.body.variables.map(v => v.name), cfg.locals);
	console.log(`Locals: ${cfg.locals.join(' ')}`);
	const ev = await dc.evaluateRequest({ expression: cfg.eval, frameId: top.id, context: 'repl' });
	assert.strictEqual(ev.body.result, cfg.result);
	console.log(`${cfg.eval} = ${ev.body.result}`);
	const threads = await dc.threadsRequest();
	assert.ok(threads.body.threads.some(t => t.id === threadId), 'the stopped goroutine is a thread');
	if (cfg.terminate) {
		await dc.disconnectRequest({ terminateDebuggee: true });
		console.log('disconnected, debuggee terminated');
		return;
	}
	await dc.setBreakpointsRequest({ source: { path: cfg.source }, breakpoints: [] });
	const exited = dc.waitForEvent('exited');
	const terminated = dc.waitForEvent('terminated');
	// Listening before the program runs: its output may come at once.
	const output = dc.assertOutput('stdout', cfg.output);
	await dc.continueRequest({ threadId });
	await withTimeout('program output', output);
	const ex = await withTimeout('exited event', exited);
	assert.strictEqual(ex.body.exitCode, cfg.exitCode);
	await withTimeout('terminated event', terminated);
	console.log(`exited ${ex.body.exitCode}`);
	await dc.disconnectRequest({});
}

async function main() {
	const dc = new DebugClient('unused', 'unused', 'go');
	await withTimeout('connecting', dc.start(cfg.port));
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
		await session(dc);
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
