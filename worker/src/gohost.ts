// The host side of the Go program's outgoing requests and timeouts: each
// runs in the request context of a Worker call that is waiting on Go
// (cmd/keboola-mcp-wasm/host.go says why).
//
// Workers tie pending fetches and timers to the request context that started
// them and drop them when that request ends; a promise one request resolves
// runs its continuations in that request too. Go runs in whichever request
// entered it last, so left alone it would start one request's Keboola call,
// or set its runtime's next timeout, in another request, and lose it when
// that one ended first: the waiting request was then cancelled as hung.
//
// A call is one entry into Go for one request (an MCP request, a token check
// at login). While it lasts, the request that made it loops here in its own
// context: it performs the fetches Go asks for on its behalf and hands each
// answer back into Go from there, and it fires the Go runtime's timeouts when
// they are due, which are kept here rather than as JavaScript timeouts. Work
// for a call that Go hands over while another request is running it waits
// for the call's next tick: nothing wakes a call from another request.

/**
 * How often a waiting call looks for work another request's run of Go left
 * it: the most such a hand-over waits, while the call is busy. A call that
 * finds nothing looks half as often each time, down to IDLE_TICK_MS, so a
 * long wait on Keboola costs little CPU. Work Go hands a call while that
 * call's own request runs it is taken at once.
 */
export const TICK_MS = 2;
export const IDLE_TICK_MS = 32;

/** What Go answers a fetch with: an error message, or the whole response. */
export type Deliver = (error: string | null, response?: { status: number; headers: [string, string][]; body: Uint8Array }) => void;

interface Fetch {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
  deliver: Deliver;
  delivered: boolean;
}

interface Call {
  done: boolean;
  queue: Fetch[];
  running: Set<Fetch>;
  /** Wakes the call's loop early; only its own request may (see running). */
  wake?: () => void;
}

const calls = new Map<number, Call>();
let lastCallId = 0;
/** The call whose request is running Go right now, 0 when none of ours is. */
let running = 0;

/** Enters Go for a call, from that call's request. */
function enterFor<T>(id: number, enter: () => T): T {
  const outer = running;
  running = id;
  try {
    return enter();
  } finally {
    running = outer;
  }
}

/** Wakes a call's loop, if this is its own request. */
function wakeIfOwn(id: number, call: Call): void {
  if (running === id) call.wake?.();
}

/** globalThis.keboolaMCPHost, which Go reads (host.go). */
export const host = {
  /** The call whose request is entering Go right now; Go tags the work it starts with it. */
  get entering(): number {
    return running;
  },
  /** Go settled the call's promise. */
  settled(callId: number): void {
    const call = calls.get(callId);
    if (!call) return;
    call.done = true;
    wakeIfOwn(callId, call);
  },
  fetch(callId: number, method: string, url: string, headers: [string, string][], body: Uint8Array | null, deliver: Deliver): void {
    const job: Fetch = { method, url, headers, body, deliver, delivered: false };
    const call = calls.get(callId);
    if (!call) {
      // A goroutine outlived its call; never call back into Go from inside Go.
      queueMicrotask(() => settle(job, 'the Worker request this Keboola call served has ended'));
      return;
    }
    call.queue.push(job);
    wakeIfOwn(callId, call);
  },
};

/** The part of wasm_exec.js's Go class the timeouts need. */
interface GoRuntime {
  importObject: WebAssembly.Imports;
  mem: DataView;
  _resume(): void;
}

let runtime: GoRuntime | undefined;
/** The Go runtime's pending timeouts: id → when due (ms since the epoch). */
const timeouts = new Map<number, number>();
let lastTimeoutId = 0;

/**
 * Replaces the Go runtime's timeouts (wasm_exec.js sets a JavaScript timeout
 * per Go timeout) with entries the waiting calls fire. Call before the
 * program is instantiated.
 */
export function keepGoTimeouts(go: GoRuntime): void {
  runtime = go;
  const gojs = go.importObject.gojs as Record<string, (sp: number) => void>;
  // func scheduleTimeoutEvent(delay int64) int32
  gojs['runtime.scheduleTimeoutEvent'] = (sp) => {
    sp >>>= 0;
    const delay = go.mem.getUint32(sp + 8, true) + go.mem.getInt32(sp + 12, true) * 4294967296;
    const id = ++lastTimeoutId;
    timeouts.set(id, Date.now() + delay);
    go.mem.setInt32(sp + 16, id, true);
  };
  // func clearTimeoutEvent(id int32)
  gojs['runtime.clearTimeoutEvent'] = (sp) => {
    sp >>>= 0;
    timeouts.delete(go.mem.getInt32(sp + 8, true));
  };
}

/** Fires the Go timeouts that are due, as wasm_exec.js's timeouts would: Go clears each it handles. */
function fireDueTimeouts(callId: number): void {
  const now = Date.now();
  for (const [id, due] of timeouts) {
    if (due > now || !timeouts.has(id)) continue;
    enterFor(callId, () => runtime!._resume());
    // Go clears a timeout when it wakes for it; one it missed is dropped
    // rather than retried forever (wasm_exec.js warns and retries).
    if (timeouts.delete(id)) console.warn('go: a runtime timeout fired without Go handling it');
  }
}

function nextDue(): number {
  let next = Infinity;
  for (const due of timeouts.values()) next = Math.min(next, due);
  return next;
}

function settle(job: Fetch, error: string | null, response?: Parameters<Deliver>[1]): void {
  if (job.delivered) return;
  job.delivered = true;
  job.deliver(error, response);
}

async function perform(id: number, call: Call, job: Fetch): Promise<void> {
  call.running.add(job);
  try {
    const res = await fetch(job.url, { method: job.method, headers: job.headers, body: job.body, redirect: 'manual' });
    const body = new Uint8Array(await res.arrayBuffer());
    const headers: [string, string][] = [];
    res.headers.forEach((v, k) => headers.push([k, v]));
    enterFor(id, () => settle(job, null, { status: res.status, headers, body }));
  } catch (err) {
    enterFor(id, () => settle(job, (err as Error).message));
  } finally {
    call.running.delete(job);
  }
}

/**
 * Runs one call into Go: enter calls one Go export, which returns a Promise.
 * Resolves as that promise does.
 */
export async function inCall<T>(enter: () => Promise<T>): Promise<T> {
  const id = ++lastCallId;
  const call: Call = { done: false, queue: [], running: new Set() };
  calls.set(id, call);
  let result: Promise<T>;
  try {
    result = enterFor(id, enter);
  } catch (err) {
    calls.delete(id);
    throw err;
  }
  // Go also says so (host.settled), at once when this request is running it.
  const finished = () => {
    call.done = true;
  };
  result.then(finished, finished);
  let tick = TICK_MS;
  try {
    while (!call.done) {
      const job = call.queue.shift();
      if (job) {
        void perform(id, call, job);
        tick = TICK_MS;
        continue;
      }
      if (nextDue() <= Date.now()) {
        fireDueTimeouts(id);
        tick = TICK_MS;
        continue;
      }
      const sleep = Math.max(1, Math.min(tick, nextDue() - Date.now()));
      const woken = await new Promise<boolean>((resolve) => {
        // Never cleared: a late tick is a no-op.
        setTimeout(() => resolve(false), sleep);
        call.wake = () => resolve(true);
      });
      call.wake = undefined;
      tick = woken ? TICK_MS : Math.min(tick * 2, IDLE_TICK_MS);
    }
  } finally {
    calls.delete(id);
    for (const job of [...call.queue, ...call.running]) enterFor(id, () => settle(job, 'the Worker request ended before this Keboola call finished'));
  }
  return result;
}
