// Answers the MCP requests that need no Keboola call (initialize, ping,
// notifications/initialized, and tools/list once the grant's tool gate is
// known) without starting the Go server in wasm, from the answers the Go
// build recorded from that same server (cmd/keboola-mcp-static →
// build/mcp-static.json; see internal/mcpserver/static.go). The wasm module
// then starts only on the first request that needs it, usually the first
// tools/call.
//
// The rule that keeps the answers the Go server's own: a request is answered
// here only if Go would see exactly a recorded request with another id. Its
// body must be compact JSON (as JSON.stringify writes it: no spaces, no
// duplicate keys, no escapes that decode alike), with only the members and
// shapes listed below; its headers must be ones Go treats as the recorded
// ones. Anything else, including every malformed request, goes to Go, which
// gives its own answer and error.
import recorded from '../build/mcp-static.json';
import type { GoResponse } from './wasm';

/** The data file written by cmd/keboola-mcp-static. */
export interface StaticAnswers {
  version: string;
  parts: string[];
  answers: Record<string, { status: number; headers: [string, string][]; body: number[] }>;
}

/** Marks where the request id goes in a recorded body (mcpserver.StaticIDPart). */
const ID_PART = -1;

/**
 * The keys a request's answers are recorded under. access is the grant's
 * scope (mcpserver.StaticGates): initialize and ping depend on nothing else.
 * tools is the session's tool gate (mcpserver.Gate.Key, see toolgates.ts),
 * absent when not known yet: tools/list then goes to Go. A key without
 * answers also makes the fast path step aside.
 */
export interface Gates {
  access: string;
  tools?: string;
}

export function accessGate(readOnly: boolean): string {
  return readOnly ? 'read' : 'full';
}

/** A recorded answer, and the JSON-RPC method it answers. */
export interface StaticAnswer extends GoResponse {
  method: string;
}

/** The request as the Go server would get it: method, the forwarded headers, the body. */
export interface StaticRequest {
  method: string;
  headers: Headers;
  body: Uint8Array;
}

/** Shapes of JSON values a request may carry, for values whose content Go decodes into typed fields. */
type Shape = 'string' | 'boolean' | 'any-object' | { [member: string]: Shape };

const EMPTY: Shape = {};
/** initialize params: what mcp.InitializeParams decodes without error for any value of these shapes. */
const INITIALIZE_PARAMS: Shape = {
  protocolVersion: 'string',
  capabilities: {
    roots: { listChanged: 'boolean' },
    sampling: { context: EMPTY, tools: EMPTY },
    elicitation: { form: EMPTY, url: EMPTY },
    experimental: 'any-object',
    extensions: 'any-object',
  },
  clientInfo: { name: 'string', title: 'string', version: 'string' },
};

/** Methods answered here, with the shape of their params (absent is always fine). */
const METHODS: Record<string, { params: Shape; notification: boolean }> = {
  initialize: { params: INITIALIZE_PARAMS, notification: false },
  ping: { params: EMPTY, notification: false },
  'notifications/initialized': { params: EMPTY, notification: true },
  'tools/list': { params: EMPTY, notification: false },
};

/** The members of a JSON-RPC request or notification. */
const MESSAGE_MEMBERS = new Set(['jsonrpc', 'id', 'method', 'params']);

/** Request ids that Go encodes back exactly as JSON.stringify does. */
const SIMPLE_STRING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const encoder = new TextEncoder();

export class FastPath {
  private readonly encoded = new Map<number, Uint8Array>();
  /** Each answer's body as chunks between the id slots, encoded once. */
  private readonly chunks = new Map<string, (Uint8Array | null)[]>();
  private readonly protocolVersions: Set<string>;

  constructor(private readonly data: StaticAnswers) {
    this.protocolVersions = new Set(Object.keys(data.answers).map((k) => k.split('|')[3]).filter((v) => v !== '' && v !== '*'));
  }

  /** The recorded answer to req for the gates, or undefined when Go must answer. */
  answer(req: StaticRequest, gates: Gates): StaticAnswer | undefined {
    if (req.method !== 'POST' || req.headers.has('last-event-id')) return undefined;
    if (!/^application\/json(; ?charset=utf-8)?$/i.test(req.headers.get('content-type') ?? '')) return undefined;
    if (!acceptsJSONAndSSE(req.headers.get('accept'))) return undefined;
    const msg = compactJSON(req.body);
    if (!isObject(msg) || !Object.keys(msg).every((k) => MESSAGE_MEMBERS.has(k))) return undefined;
    if (msg.jsonrpc !== '2.0' || typeof msg.method !== 'string' || !Object.hasOwn(METHODS, msg.method)) return undefined;
    const method = METHODS[msg.method];
    if ('params' in msg && !(isObject(msg.params) && fits(msg.params, method.params))) return undefined;
    let idJSON = '';
    if (method.notification) {
      if ('id' in msg) return undefined;
    } else {
      const id = msg.id;
      if (typeof id === 'number' && Number.isSafeInteger(id)) idJSON = String(id);
      else if (typeof id === 'string' && SIMPLE_STRING_ID.test(id)) idJSON = JSON.stringify(id);
      else return undefined;
    }
    let initVersion = '';
    if (msg.method === 'initialize') {
      const params = msg.params as Record<string, any> | undefined;
      const v = params?.protocolVersion;
      // clientInfo's name and version are required; an initialize without them is Go's to judge.
      if (typeof v !== 'string' || v === '' || typeof params?.clientInfo?.name !== 'string' || typeof params?.clientInfo?.version !== 'string') {
        return undefined;
      }
      if (!isObject(params.capabilities)) return undefined;
      initVersion = this.protocolVersions.has(v) ? v : '*';
    }
    const gate = msg.method === 'tools/list' ? gates.tools : gates.access;
    if (gate === undefined) return undefined;
    const headerVersion = req.headers.get('mcp-protocol-version') ?? '';
    if (headerVersion.includes('|') || gate.includes('|')) return undefined;
    const key = [gate, headerVersion, msg.method, initVersion].join('|');
    const recorded = this.data.answers[key];
    if (!recorded) return undefined;
    return { status: recorded.status, headers: recorded.headers, body: this.body(key, recorded.body, encoder.encode(idJSON)), method: msg.method };
  }

  private body(key: string, parts: number[], id: Uint8Array): Uint8Array {
    let chunks = this.chunks.get(key);
    if (!chunks) {
      chunks = [];
      let run: Uint8Array[] = [];
      for (const p of parts) {
        if (p !== ID_PART) {
          run.push(this.part(p));
          continue;
        }
        chunks.push(concat(run), null);
        run = [];
      }
      chunks.push(concat(run));
      this.chunks.set(key, chunks);
    }
    return concat(chunks.map((c) => c ?? id));
  }

  private part(i: number): Uint8Array {
    let p = this.encoded.get(i);
    if (!p) {
      p = encoder.encode(this.data.parts[i]);
      this.encoded.set(i, p);
    }
    return p;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The Worker's fast path over the answers recorded by this build. */
// The JSON is mcpserver.StaticAnswers encoded by Go; TypeScript only sees arrays where it holds pairs.
export const fastPath = new FastPath(recorded as unknown as StaticAnswers);

/**
 * Whether Accept names both application/json and text/event-stream: then Go's
 * check (mcp.streamableAccepts) passes whatever else it names. Anything less
 * is left to Go, which refuses it or accepts a wildcard its own way.
 */
function acceptsJSONAndSSE(accept: string | null): boolean {
  if (accept === null) return false;
  const types = accept.split(',').map((t) => t.split(';')[0].trim().toLowerCase());
  return types.includes('application/json') && types.includes('text/event-stream');
}

/** The body parsed, if it is valid UTF-8 and exactly the compact JSON of its own value. */
function compactJSON(body: Uint8Array): unknown {
  try {
    const text = utf8.decode(body);
    const value = JSON.parse(text);
    return JSON.stringify(value) === text ? value : undefined;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fits(v: unknown, shape: Shape): boolean {
  if (shape === 'string') return typeof v === 'string';
  if (shape === 'boolean') return typeof v === 'boolean';
  if (shape === 'any-object') return isObject(v);
  return isObject(v) && Object.entries(v).every(([k, x]) => Object.hasOwn(shape, k) && fits(x, shape[k]));
}
