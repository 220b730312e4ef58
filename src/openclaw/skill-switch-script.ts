// The fixed Node program the OpenClaw driver runs inside a gateway container (`node -e SCRIPT -- op args…`): it unpacks
// a staged bundle, switches the managed skill folder by renames inside skills/, restores by compare-and-swap, and asks
// the gateway for skills.status. Its text is a constant: paths and ids only ever reach it as argv, never as code.
import { RELOAD_ID_PATTERN } from '../agent/protocol';
import { BYTECODE_FILE, MANAGED_BY, MANIFEST_FILE, MAX_MANIFEST_BYTES, SKILL_FILE, SKILL_NAME_PATTERN } from './skill-bundle';

/** Hidden from OpenClaw's skill discovery, which skips entries whose name starts with a dot. */
export const STATE_DIR_NAME = '.dreamnet';
export const INCOMING_PREFIX = '.dreamnet-incoming-';
/** Revisions kept per skill for restore (prev-/none-/restored- records); older ones are pruned. */
export const MAX_KEPT_RECORDS = 16;
/** The staged bundle file: bytecode (1 MiB at most) and SKILL.md in base64, with headroom. */
export const MAX_INCOMING_BYTES = 2 * 1024 * 1024;
/** skills.status lists every bundled skill too (about 70 KB for 2026.9.6). */
export const MAX_STATUS_OUTPUT_BYTES = 4 * 1024 * 1024;
export const MAX_STATUS_TEXT_CHARS = 300;

/** The first argument after `--`. */
export const SCRIPT_ARGV_MARKER = 'dreamnet-skill-switch';

export type SwitchOp = 'install' | 'restore' | 'read' | 'status';

const SCRIPT = String.raw`
'use strict';
const fs = require('fs'), path = require('path'), crypto = require('crypto'), childProcess = require('child_process');
// argv[1] is a fixed word: node reads a first argument such as 'inspect' as its own subcommand, even after -e.
const [op, skillsDir, name, reloadId, ...rest] = process.argv.slice(2);
const MANAGED_BY = ${JSON.stringify(MANAGED_BY)};
const MANIFEST = ${JSON.stringify(MANIFEST_FILE)};
const FILES = ${JSON.stringify([SKILL_FILE, BYTECODE_FILE, MANIFEST_FILE])};
const MAX_MANIFEST_BYTES = ${MAX_MANIFEST_BYTES};
const MAX_KEPT = ${MAX_KEPT_RECORDS};
const MAX_INCOMING = ${MAX_INCOMING_BYTES};
const MAX_STATUS = ${MAX_STATUS_OUTPUT_BYTES};
const MAX_TEXT = ${MAX_STATUS_TEXT_CHARS};
const live = path.join(skillsDir, name);
const state = path.join(skillsDir, ${JSON.stringify(STATE_DIR_NAME)}, name);
const record = (kind) => path.join(state, kind + '-' + reloadId);
const incoming = path.join(skillsDir, ${JSON.stringify(INCOMING_PREFIX)} + reloadId + '.json');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const exists = (p) => { try { fs.lstatSync(p); return true; } catch (e) { if (e.code === 'ENOENT') return false; throw e; } };
const clip = (s) => (typeof s === 'string' ? s.slice(0, MAX_TEXT) : null);
function folder(dir) {
  let st;
  try { st = fs.lstatSync(dir); } catch (e) { if (e.code === 'ENOENT') return { kind: 'none' }; throw e; }
  if (!st.isDirectory()) return { kind: 'foreign' };
  try {
    const file = path.join(dir, MANIFEST);
    const fst = fs.lstatSync(file);
    if (!fst.isFile() || fst.size > MAX_MANIFEST_BYTES) return { kind: 'foreign' };
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!manifest || manifest.managedBy !== MANAGED_BY) return { kind: 'foreign' };
    return { kind: 'ours', manifest };
  } catch (e) { return { kind: 'foreign' }; }
}
const isLive = (f) => f.kind === 'ours' && f.manifest.reloadId === reloadId;
function records() {
  return { stage: exists(record('stage')), prev: exists(record('prev')), none: exists(record('none')), restored: exists(record('restored')) };
}
function prune() {
  const own = new Set(['prev', 'none', 'restored', 'stage', 'undone'].map((k) => k + '-' + reloadId));
  const entries = fs.readdirSync(state).filter((n) => /^(prev|none|restored)-/.test(n) && !own.has(n))
    .map((n) => ({ n, t: fs.lstatSync(path.join(state, n)).mtimeMs })).sort((a, b) => b.t - a.t || (a.n < b.n ? -1 : 1));
  for (const e of entries.slice(MAX_KEPT)) fs.rmSync(path.join(state, e.n), { recursive: true, force: true });
}
function unpack() {
  const st = fs.lstatSync(incoming);
  if (!st.isFile() || st.size > MAX_INCOMING) throw new Error('the staged bundle is not a file under ' + MAX_INCOMING + ' bytes');
  const bundle = JSON.parse(fs.readFileSync(incoming, 'utf8'));
  const files = new Map();
  for (const f of bundle.files) {
    if (!FILES.includes(f.name) || files.has(f.name) || typeof f.base64 !== 'string') throw new Error('unexpected bundle entry');
    files.set(f.name, Buffer.from(f.base64, 'base64'));
  }
  if (files.size !== FILES.length) throw new Error('the staged bundle lacks a file');
  const manifest = JSON.parse(files.get(MANIFEST).toString('utf8'));
  if (manifest.managedBy !== MANAGED_BY || manifest.reloadId !== reloadId || manifest.skillName !== name) throw new Error('the staged manifest is not for this reload');
  if (sha256(files.get(FILES[0])) !== manifest.skillSha256 || sha256(files.get(FILES[1])) !== manifest.bytecodeSha256) throw new Error('the staged files do not match their manifest');
  const stage = record('stage');
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage);
  for (const [n, b] of files) fs.writeFileSync(path.join(stage, n), b, { mode: 0o644 });
  fs.unlinkSync(incoming);
}
function install() {
  fs.mkdirSync(state, { recursive: true });
  const now = folder(live);
  if (isLive(now)) { fs.rmSync(incoming, { force: true }); fs.rmSync(record('stage'), { recursive: true, force: true }); return out({ outcome: 'already', replaced: folder(record('prev')).manifest || null }); }
  if (now.kind === 'foreign') { fs.rmSync(incoming, { force: true }); return out({ outcome: 'foreign' }); }
  if (exists(incoming)) unpack();
  if (!exists(record('stage'))) return out({ outcome: 'no-stage' });
  const r = records();
  if (!r.prev && !r.none) {
    if (now.kind === 'ours') fs.renameSync(live, record('prev'));
    else fs.writeFileSync(record('none'), '');
  }
  fs.renameSync(record('stage'), live);
  prune();
  out({ outcome: 'switched', replaced: folder(record('prev')).manifest || null });
}
function restore() {
  const now = folder(live);
  const r = records();
  if (!fs.existsSync(state)) return out({ outcome: 'nothing-to-undo', current: now.manifest || null });
  const inEffect = isLive(now) || r.restored || (now.kind === 'none' && (r.prev || r.none));
  if (!inEffect) {
    if (r.prev || r.none) return out({ outcome: 'superseded', current: now.manifest || null });
    fs.rmSync(record('stage'), { recursive: true, force: true });
    fs.rmSync(incoming, { force: true });
    return out({ outcome: 'nothing-to-undo', current: now.manifest || null });
  }
  if (isLive(now) && !r.prev && !r.none) return out({ outcome: 'no-record', current: now.manifest });
  if (!r.restored) fs.writeFileSync(record('restored'), '');
  if (isLive(now)) fs.renameSync(live, record('undone'));
  if (!exists(live) && exists(record('prev'))) fs.renameSync(record('prev'), live);
  fs.rmSync(record('undone'), { recursive: true, force: true });
  fs.rmSync(record('none'), { force: true });
  out({ outcome: 'restored', current: folder(live).manifest || null, description: liveDescription() });
}
function liveDescription() {
  try { return clip(frontMatterDescription(fs.readFileSync(path.join(live, FILES[0]), 'utf8').slice(0, 64 * 1024))); } catch (e) { return null; }
}
function inspect() {
  const now = folder(live);
  out({ live: now.kind, manifest: now.manifest || null, description: now.kind === 'ours' ? liveDescription() : null, records: exists(state) ? records() : { stage: false, prev: false, none: false, restored: false }, incoming: exists(incoming) });
}
function frontMatterDescription(text) {
  const m = /^---\n(?:[^\n]*\n)*?description: ("(?:[^"\\\n]|\\.)*")\n/.exec(text);
  try { return m ? JSON.parse(m[1]) : null; } catch (e) { return null; }
}
function status() {
  const [node, cli, timeoutMs] = rest;
  let raw;
  try {
    raw = childProcess.execFileSync(node, [cli, 'gateway', 'call', 'skills.status', '--json', '--timeout', String(timeoutMs)], { timeout: Number(timeoutMs), maxBuffer: MAX_STATUS, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return out({ reachable: false, error: clip(String((e.stderr && e.stderr.toString()) || e.message)) });
  }
  let parsed;
  try { parsed = JSON.parse(raw.toString('utf8')); } catch (e) { return out({ reachable: false, error: 'skills.status did not answer JSON' }); }
  const list = Array.isArray(parsed.skills) ? parsed.skills : [];
  const skill = list.find((s) => s && s.name === name && s.source === 'openclaw-workspace');
  if (!skill) return out({ reachable: true, listed: false, skills: list.length });
  const skillFile = path.join(live, ${JSON.stringify(SKILL_FILE)});
  let fileSha256 = null, fileDescription = null;
  if (typeof skill.filePath === 'string' && path.resolve(skill.filePath) === skillFile) {
    try { const b = fs.readFileSync(skillFile); fileSha256 = sha256(b); fileDescription = frontMatterDescription(b.toString('utf8')); } catch (e) { fileSha256 = null; }
  }
  const missing = {};
  for (const [k, v] of Object.entries(skill.missing || {})) if (Array.isArray(v) && v.length > 0) missing[k] = v.slice(0, 8).map(clip);
  out({
    reachable: true, listed: true, skills: list.length, eligible: skill.eligible === true, disabled: skill.disabled === true,
    blockedByAllowlist: skill.blockedByAllowlist === true, source: clip(skill.source), filePath: clip(skill.filePath),
    description: clip(skill.description), fileDescription: clip(fileDescription), fileSha256, missing,
  });
}
try {
  if (!new RegExp(${JSON.stringify(SKILL_NAME_PATTERN.source)}).test(name || '') || !new RegExp(${JSON.stringify(RELOAD_ID_PATTERN.source)}).test(reloadId || '') || !path.isAbsolute(skillsDir || '')) {
    out({ outcome: 'bad-arguments' });
  } else if (op === 'install') install();
  else if (op === 'restore') restore();
  else if (op === 'read') inspect();
  else if (op === 'status') status();
  else out({ outcome: 'bad-arguments' });
} catch (e) {
  out({ outcome: 'failed', error: clip(e && e.code ? e.code + ': ' + e.message : String(e)) });
  process.exitCode = 3;
}
`;

/** argv for one operation: `node -e SCRIPT -- dreamnet-skill-switch op skillsDir skillName reloadId extra…`. */
export function switchArgv(nodePath: string, op: SwitchOp, skillsDir: string, skillName: string, reloadId: string, extra: string[] = []): string[] {
  return [nodePath, '-e', SCRIPT, '--', SCRIPT_ARGV_MARKER, op, skillsDir, skillName, reloadId, ...extra];
}
