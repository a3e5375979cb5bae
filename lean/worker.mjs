// A persistent Lean 4 checker: runs `lean --worker` (Lean's single-document language server) from the
// WebAssembly glue inside this Node process and checks one whole document at a time.
//
// Usage: node worker.mjs GLUE_JS HEADER
//   GLUE_JS  the patched emscripten glue (lean.patched.js); lean.wasm lies next to it.
//   HEADER   the prefix every document starts with (its imports). It is elaborated at start-up, followed by a
//            small warm-up document, so the first request does not pay for the import or Lean's thread start-up.
//
// Protocol, JSON lines. In on stdin: {"id": k, "text": "<whole document>", "timeout": seconds}, answered in order.
// Out on stdout: {"ready": true, "version": v, "elapsed": s} once warmed up, then per request
// {"id": k, "version": v, "messages": [{severity, pos, endPos, data}], "elapsed": s} or {"id": k, "error": "..."}.
// Messages look like `lean --json` output: severity "error" | "warning" | "information", 1-based lines and
// 0-based columns counted in code points. Other stdout lines (the glue prints "[DEBUG...]" lines) are noise.
// After a timeout or a Lean exit the process exits: start a new one.
//
// How it runs: Lean's main thread reads its stdin synchronously, so once Lean runs, this driver never gets back
// to Node's event loop. The wasm read of fd 0 is served by `readStdin`, which, while nothing is queued for Lean,
// polls our own stdin without blocking, services the emscripten main-thread mailbox (file system calls and
// thread creation proxied from Lean's threads) and delivers the pthread workers' messages by hand. Lean's
// stdout is parsed as LSP frames in the write hook of fd 1.

import fs from "node:fs";
import { createRequire } from "node:module";
import { receiveMessageOnPort } from "node:worker_threads";

const [gluePath, header] = process.argv.slice(2);
if (!gluePath || header === undefined) {
  process.stderr.write("usage: node worker.mjs GLUE_JS HEADER\n");
  process.exit(2);
}

const WARMUP = `${header}\nexample : 2 + 2 = 4 := by decide\n`;
const START_TIMEOUT_S = 600; // the caller enforces its own, shorter start-up timeout
const POLL_MS = 1;
const SEVERITY = { 1: "error", 2: "warning", 3: "information", 4: "information" };
const TRACE = Boolean(process.env.LEAN_WORKER_TRACE);
const started = performance.now();
const uri = `file://${process.cwd()}/Snippet.lean`;
const seconds = (since) => (performance.now() - since) / 1000;

const reply = (obj) => fs.writeSync(1, JSON.stringify(obj) + "\n");
const log = (...args) => fs.writeSync(2, args.join(" ") + "\n");
console.log = log; // keep the glue's debug output off the protocol stream where we can

// ---- what Lean reads --------------------------------------------------------------------------------------
let leanIn = Buffer.alloc(0);
const sendLsp = (msg) => {
  const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...msg }), "utf8");
  leanIn = Buffer.concat([leanIn, Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]);
};

// ---- documents --------------------------------------------------------------------------------------------
let version = 0;
/** The version being checked: {id, version, lines, start, deadline, diagnostics}; null when idle. */
let current = null;
/** Requests not yet sent to Lean; start-up documents have id null. */
const pending = [
  { id: null, text: header, timeout: START_TIMEOUT_S },
  { id: null, text: WARMUP, timeout: START_TIMEOUT_S },
];

const openDocument = ({ id, text, timeout }) => {
  version += 1;
  const start = performance.now();
  current = { id, version, lines: text.split("\n"), start, deadline: start + (timeout ?? 60) * 1000, diagnostics: [] };
  if (version === 1) {
    // What Lean's watchdog sends a file worker; the worker never answers `initialize`.
    sendLsp({ id: 0, method: "initialize", params: { processId: null, rootUri: null, capabilities: {} } });
    sendLsp({
      method: "textDocument/didOpen",
      params: { textDocument: { uri, languageId: "lean4", version, text }, dependencyBuildMode: "never" },
    });
  } else {
    sendLsp({ method: "textDocument/didChange", params: { textDocument: { uri, version }, contentChanges: [{ text }] } });
  }
};

/** LSP position (0-based line, UTF-16 column) to a `lean --json` one (1-based line, code-point column). */
const toLeanPos = (lines, pos) => ({
  line: pos.line + 1,
  column: [...(lines[pos.line] ?? "").slice(0, pos.character)].length,
});

const finish = () => {
  const doc = current;
  current = null;
  if (doc.id === null) {
    if (pending.length === 0 || pending[0].id !== null) reply({ ready: true, version: doc.version, elapsed: seconds(started) });
    return;
  }
  const messages = doc.diagnostics.map((d) => {
    const range = d.fullRange ?? d.range;
    return {
      severity: SEVERITY[d.severity] ?? "information",
      pos: toLeanPos(doc.lines, range.start),
      endPos: toLeanPos(doc.lines, range.end),
      data: d.message,
    };
  });
  reply({ id: doc.id, version: doc.version, messages, elapsed: seconds(doc.start) });
};

const onLeanMessage = (msg) => {
  if (TRACE) log("<<", seconds(started).toFixed(3), JSON.stringify(msg).slice(0, 200));
  if (msg.id !== undefined && msg.method !== undefined) {
    sendLsp({ id: msg.id, result: null }); // a request to the client (refresh hints, ...): acknowledge it
    return;
  }
  const params = msg.params;
  if (current === null || params?.version === undefined || params.version !== current.version) return;
  // Diagnostics are re-published whole as elaboration progresses; `ileanInfoFinal` is sent once the version is
  // fully processed, after its last diagnostics (an empty `fileProgress` can come before them).
  if (msg.method === "textDocument/publishDiagnostics") current.diagnostics = params.diagnostics;
  else if (msg.method === "$/lean/ileanInfoFinal") finish();
};

// ---- what Lean writes: LSP frames -------------------------------------------------------------------------
let leanOut = Buffer.alloc(0);
const HEADER_END = Buffer.from("\r\n\r\n");
const onLeanOutput = (bytes) => {
  leanOut = leanOut.length ? Buffer.concat([leanOut, bytes]) : bytes;
  for (;;) {
    const end = leanOut.indexOf(HEADER_END);
    if (end < 0) return;
    const match = /Content-Length: *(\d+)/i.exec(leanOut.subarray(0, end).toString("ascii"));
    if (!match) {
      leanOut = leanOut.subarray(end + 4); // not a frame header: skip it
      continue;
    }
    const total = end + 4 + Number(match[1]);
    if (leanOut.length < total) return;
    const body = leanOut.subarray(end + 4, total).toString("utf8");
    leanOut = leanOut.subarray(total);
    onLeanMessage(JSON.parse(body));
  }
};

// ---- requests from the caller -----------------------------------------------------------------------------
const inputFd = fs.openSync("/proc/self/fd/0", fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
const inputChunk = Buffer.alloc(1 << 16);
let inputText = "";

/** Queue what the caller has sent, without blocking; exit when it closed our stdin. */
const pollCaller = () => {
  for (;;) {
    let n;
    try {
      n = fs.readSync(inputFd, inputChunk, 0, inputChunk.length, null);
    } catch (e) {
      if (e.code === "EAGAIN") break;
      throw e;
    }
    if (n === 0) process.exit(0);
    inputText += inputChunk.toString("utf8", 0, n);
  }
  let newline;
  while ((newline = inputText.indexOf("\n")) >= 0) {
    const line = inputText.slice(0, newline).trim();
    inputText = inputText.slice(newline + 1);
    if (line) pending.push(JSON.parse(line));
  }
};

const tick = () => {
  pollCaller();
  if (current !== null && performance.now() > current.deadline) {
    reply({ id: current.id, error: "timeout" });
    process.exit(3); // Lean may be busy with it for long: the caller starts a fresh worker
  }
  if (current === null && pending.length) openDocument(pending.shift());
};

// ---- the wasm module --------------------------------------------------------------------------------------
let Module;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let publicPortSymbol;

/**
 * Deliver the messages the pthread workers posted to the main thread (thread clean-up, mostly). Node would
 * deliver them from its event loop, which never runs while Lean's main thread waits for input; without this,
 * finished threads never return to the pool and each new Lean thread loads a fresh Worker (~5 s).
 */
const drainWorkerMessages = () => {
  const { runningWorkers, unusedWorkers } = Module.PThread;
  for (const worker of [...runningWorkers, ...unusedWorkers]) {
    // Node's own symbol for the port behind worker.on("message") (pinned Node 24)
    publicPortSymbol ??= Object.getOwnPropertySymbols(worker).find((s) => s.description === "kPublicPort");
    const port = worker[publicPortSymbol];
    for (let entry; port && (entry = receiveMessageOnPort(port)) !== undefined; ) worker.onmessage({ data: entry.message });
  }
};

/** Lean reads fd 0: hand it what is queued, waiting (and servicing its threads) until something is. */
const readStdin = (stream, buffer, offset, length) => {
  for (;;) {
    tick();
    if (leanIn.length) break;
    Module.__emscripten_check_mailbox();
    drainWorkerMessages();
    Atomics.wait(sleeper, 0, 0, POLL_MS);
  }
  const n = Math.min(length, leanIn.length);
  new Uint8Array(buffer.buffer, buffer.byteOffset + offset, n).set(leanIn.subarray(0, n));
  leanIn = leanIn.subarray(n);
  return n;
};

const writeStdout = (stream, buffer, offset, length) => {
  onLeanOutput(Buffer.from(new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length)));
  return length;
};

// The glue takes its arguments from process.argv and exports its Module object; the wasm is instantiated
// asynchronously, so hooks set right after require() are in place before Lean's main runs.
// reportDelayMs=0: by default the worker waits 200 ms before each report. -j1: one task-manager thread; every
// Lean thread is a Worker with its own copy of the glue (~0.5 GB), and more threads were slower on 2 cores.
process.argv = [process.argv[0], gluePath, "--worker", "-j1", "-Dserver.reportDelayMs=0"];
Module = createRequire(import.meta.url)(gluePath);
Module.onRuntimeInitialized = () => {
  // Lean's main runs until its stdin closes, but the glue takes a thread message handled while no keep-alive
  // is held for "the program is over" and tears the runtime down: hold one for Lean's lifetime.
  Module.runtimeKeepalivePush();
  const stdin = Module.FS.getStream(0);
  stdin.stream_ops = { ...stdin.stream_ops, read: readStdin };
  const stdout = Module.FS.getStream(1);
  stdout.stream_ops = { ...stdout.stream_ops, write: writeStdout };
};
Module.postRun = () => {
  reply({ id: current?.id ?? null, error: `lean --worker exited (code ${process.exitCode ?? 0})` });
  process.exit(4);
};
