// The fake router's state and menus: address lists with counting-down timeouts, filter rules, scripts, queries.
import net from 'node:net';
import { runScript } from './script.js';

/** A `!trap` reply: `=message=` and, when RouterOS gives one, `=category=`. */
export class Trap extends Error {
  /** @param {string} message @param {number} [category] */
  constructor(message, category) {
    super(message);
    this.category = category;
  }
}

const UNITS = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };

/**
 * Parses a RouterOS duration ("1h59m58s", "2d", "00:10:00", "90") into seconds; null when malformed.
 * @param {string} text
 * @returns {number | null}
 */
export function parseRosDuration(text) {
  if (/^\d+$/.test(text)) return Number(text);
  const hms = /^(?:(\d+)d\s*)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(text);
  if (hms) return Number(hms[1] ?? 0) * 86400 + Number(hms[2]) * 3600 + Number(hms[3]) * 60 + Number(hms[4]);
  const re = /(\d+)(w|d|h|m|s)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNITS[/** @type {keyof typeof UNITS} */ (m[2])];
    end = re.lastIndex;
  }
  return end === text.length && text.length > 0 ? total : null;
}

/** @param {number} seconds */
export function formatRosDuration(seconds) {
  let s = Math.max(0, Math.floor(seconds));
  if (s === 0) return '0s';
  let out = '';
  for (const [unit, size] of Object.entries(UNITS)) {
    const n = Math.floor(s / size);
    if (n > 0) out += `${n}${unit}`;
    s -= n * size;
  }
  return out;
}

/** @param {string} text @returns {string | null} canonical address as RouterOS prints it */
function parseAddress(text) {
  const m = /^(!?)([^/]+)(?:\/(\d{1,2}))?$/.exec(text);
  if (!m || !net.isIPv4(/** @type {string} */ (m[2]))) return null;
  if (m[3] !== undefined && Number(m[3]) > 32) return null;
  return m[3] === undefined || m[3] === '32' ? `${m[1]}${m[2]}` : `${m[1]}${m[2]}/${m[3]}`;
}

const LIST_NAME = /^!?[^\s=;"$\\]{1,64}$/;
const FILTER_ACTIONS = new Set(['accept', 'drop', 'reject', 'jump', 'return', 'log', 'passthrough', 'fasttrack-connection', 'tarpit']);
const REJECT_WITH = new Set(['icmp-network-unreachable', 'icmp-host-unreachable', 'icmp-port-unreachable', 'icmp-protocol-unreachable',
  'icmp-net-prohibited', 'icmp-host-prohibited', 'icmp-admin-prohibited', 'tcp-reset']);
const CONN_STATES = new Set(['new', 'established', 'related', 'invalid', 'untracked']);
const DST_LIMIT = /^\d+(\/(\d+[smhdw]|second|minute|hour|day))?,\d+,(dst-address|dst-address-and-port|src-address|src-and-dst-address|addresses-and-dst-port)(\/\d+[smhdw]?)?$/;
const POLICIES = new Set(['ftp', 'reboot', 'read', 'write', 'policy', 'test', 'password', 'sniff', 'sensitive', 'romon']);

/** @typedef {{ id: string, list: string, address: string, expiresAt: number | null, comment?: string, disabled: boolean, created: number }} Entry */
/** @typedef {{ id: string, dynamic: boolean, props: Record<string, string> }} Rule */
/** @typedef {{ id: string, name: string, source: string, policy: string, runs: number }} Script */

export class FakeRouter {
  /** @param {{ emptyReply?: boolean }} [opts] */
  constructor(opts = {}) {
    /** Answer an empty print with `!empty` before `!done`, as RouterOS ≥ 7.18 does. */
    this.emptyReply = opts.emptyReply ?? true;
    this.offsetMs = 0;
    this.seq = 0x10;
    /** @type {Map<string, Entry>} */
    this.entries = new Map();
    /** @type {Rule[]} */
    this.filter = [];
    /** @type {Map<string, Script>} */
    this.scripts = new Map();
    this.identity = 'fake-routeros';
  }

  now() { return Date.now() + this.offsetMs; }
  /** Moves the router's clock forward (timeouts count down with it). @param {number} ms */
  advance(ms) { this.offsetMs += ms; this.purge(); }
  newId() { return `*${(this.seq++).toString(16).toUpperCase()}`; }

  /** What a reboot does to the configuration: dynamic address-list entries (those with a timeout) are gone. */
  reboot() {
    for (const [id, e] of this.entries) if (e.expiresAt !== null) this.entries.delete(id);
  }

  purge() {
    const now = this.now();
    for (const [id, e] of this.entries) if (e.expiresAt !== null && e.expiresAt <= now) this.entries.delete(id);
  }

  /** Adds a rule by hand (an operator's own rule, or the dynamic fasttrack counter rule). @param {Record<string,string>} props @param {boolean} [dynamic] */
  seedRule(props, dynamic = false) {
    const rule = { id: this.newId(), dynamic, props: { ...props } };
    this.filter.push(rule);
    return rule.id;
  }

  /** @param {string} list */
  entriesOf(list) {
    this.purge();
    return [...this.entries.values()].filter((e) => e.list === list);
  }

  /**
   * Executes one API sentence (without .tag) and returns the reply sentences.
   * @param {string} command
   * @param {Map<string,string>} attrs
   * @param {string[]} queries
   * @returns {string[][]}
   */
  execute(command, attrs, queries) {
    this.purge();
    const m = /^(\/ip\/firewall\/address-list|\/ip\/firewall\/filter|\/system\/script|\/system\/identity)\/([a-z-]+)$/.exec(command);
    if (!m) throw new Trap('no such command prefix', 0);
    const [, menu, verb] = /** @type {[string, string, string]} */ (m);
    if (verb === 'print') return this.print(this.rows(menu), attrs, queries);
    const done = (/** @type {string | undefined} */ ret) => [ret === undefined ? ['!done'] : ['!done', `=ret=${ret}`]];
    switch (`${menu}:${verb}`) {
      case '/ip/firewall/address-list:add': return done(this.addEntry(attrs));
      case '/ip/firewall/address-list:set': this.setEntry(attrs); return done();
      case '/ip/firewall/address-list:remove': this.removeIds(attrs, (id) => this.entries.delete(id)); return done();
      case '/ip/firewall/filter:add': return done(this.addRule(attrs));
      case '/ip/firewall/filter:remove': this.removeIds(attrs, (id) => this.dropRule(id)); return done();
      case '/ip/firewall/filter:move': this.moveRules(attrs); return done();
      case '/system/script:add': return done(this.addScript(attrs));
      case '/system/script:remove': this.removeIds(attrs, (id) => this.scripts.delete(id), (n) => this.scriptByName(n)?.id); return done();
      case '/system/script:run': this.runScript(attrs); return done();
      default: throw new Trap(`no such command`, 0);
    }
  }

  /** @param {string} menu @returns {Record<string,string>[]} */
  rows(menu) {
    if (menu === '/ip/firewall/address-list') {
      const now = this.now();
      return [...this.entries.values()].map((e) => ({
        '.id': e.id, list: e.list, address: e.address,
        'creation-time': new Date(e.created).toISOString().replace('T', ' ').slice(0, 19),
        ...(e.expiresAt === null ? {} : { timeout: formatRosDuration(Math.ceil((e.expiresAt - now) / 1000)) }),
        dynamic: String(e.expiresAt !== null), disabled: String(e.disabled),
        ...(e.comment === undefined ? {} : { comment: e.comment }),
      }));
    }
    if (menu === '/ip/firewall/filter') {
      return this.filter.map((r) => ({ '.id': r.id, ...r.props, invalid: 'false', dynamic: String(r.dynamic), disabled: r.props.disabled ?? 'false', bytes: '0', packets: '0' }));
    }
    if (menu === '/system/script') return [...this.scripts.values()].map((s) => ({ '.id': s.id, name: s.name, source: s.source, policy: s.policy, 'run-count': String(s.runs) }));
    return [{ name: this.identity }];
  }

  /** @param {Record<string,string>[]} rows @param {Map<string,string>} attrs @param {string[]} queries */
  print(rows, attrs, queries) {
    for (const k of attrs.keys()) if (k !== '.proplist') throw new Trap(`unknown parameter ${k}`, 1);
    const matched = rows.filter((row) => evalQuery(row, queries));
    const proplist = attrs.get('.proplist')?.split(',');
    const out = matched.map((row) => ['!re', ...Object.entries(row).filter(([k]) => !proplist || proplist.includes(k)).map(([k, v]) => `=${k}=${v}`)]);
    if (out.length === 0 && this.emptyReply) return [['!empty'], ['!done']];
    return [...out, ['!done']];
  }

  /** @param {Map<string,string>} attrs @param {string[]} allowed */
  static only(attrs, allowed) {
    for (const k of attrs.keys()) if (!allowed.includes(k)) throw new Trap(`unknown parameter ${k}`, 1);
  }

  /** @param {Map<string,string>} attrs */
  timeoutOf(attrs) {
    const t = attrs.get('timeout');
    if (t === undefined || t === '') return null;
    const secs = parseRosDuration(t);
    if (secs === null || secs > 35 * 604800) throw new Trap('invalid time value for argument timeout', 1);
    return secs === 0 ? null : this.now() + secs * 1000;
  }

  /** @param {Map<string,string>} attrs */
  addEntry(attrs) {
    FakeRouter.only(attrs, ['list', 'address', 'timeout', 'comment', 'disabled']);
    const list = attrs.get('list');
    const address = parseAddress(attrs.get('address') ?? '');
    if (!list || !LIST_NAME.test(list) || list.startsWith('!')) throw new Trap('invalid value for argument list', 1);
    if (!address || address.startsWith('!')) throw new Trap('invalid value for argument address', 1);
    for (const e of this.entries.values()) if (e.list === list && e.address === address) throw new Trap('failure: already have such entry');
    const id = this.newId();
    const comment = attrs.get('comment');
    this.entries.set(id, { id, list, address, expiresAt: this.timeoutOf(attrs), disabled: attrs.get('disabled') === 'yes', created: this.now(), ...(comment === undefined ? {} : { comment }) });
    return id;
  }

  /** @param {Map<string,string>} attrs */
  setEntry(attrs) {
    FakeRouter.only(attrs, ['.id', 'numbers', 'timeout', 'comment', 'disabled', 'list', 'address']);
    const id = attrs.get('.id') ?? attrs.get('numbers') ?? '';
    const e = this.entries.get(id);
    if (!e) throw new Trap('no such item', 1);
    if (attrs.has('timeout')) e.expiresAt = this.timeoutOf(attrs);
    const comment = attrs.get('comment');
    if (comment !== undefined) e.comment = comment;
  }

  /**
   * @param {Map<string,string>} attrs
   * @param {(id: string) => unknown} drop
   * @param {(name: string) => string | undefined} [byName]
   */
  removeIds(attrs, drop, byName) {
    FakeRouter.only(attrs, ['.id', 'numbers']);
    const ids = (attrs.get('.id') ?? attrs.get('numbers') ?? '').split(',').map((n) => (n.startsWith('*') ? n : byName?.(n) ?? n));
    const known = (/** @type {string} */ id) => this.entries.has(id) || this.filter.some((r) => r.id === id) || this.scripts.has(id);
    if (ids.length === 0 || ids.some((id) => !known(id))) throw new Trap('no such item', 1);
    for (const id of ids) drop(id);
  }

  /** @param {string} id */
  dropRule(id) {
    const i = this.filter.findIndex((r) => r.id === id);
    if (i < 0) return;
    if (this.filter[i]?.dynamic) throw new Trap('failure: cannot remove dynamic rule');
    this.filter.splice(i, 1);
  }

  /** @param {Map<string,string>} attrs */
  addRule(attrs) {
    FakeRouter.only(attrs, ['chain', 'action', 'protocol', 'dst-port', 'src-address', 'dst-address', 'src-address-list', 'dst-address-list',
      'connection-state', 'dst-limit', 'jump-target', 'reject-with', 'comment', 'disabled', 'place-before', 'log', 'log-prefix']);
    /** @type {Record<string,string>} */
    const props = {};
    for (const [k, v] of attrs) if (k !== 'place-before') props[k] = v;
    if (!props.chain || !/^[a-z0-9-]{1,64}$/.test(props.chain)) throw new Trap('missing or invalid value of chain', 1);
    props.action ??= 'accept';
    if (!FILTER_ACTIONS.has(props.action)) throw new Trap('invalid value for argument action', 1);
    if (props.action === 'jump' && !props['jump-target']) throw new Trap('failure: jump-target must be specified for action=jump');
    if (props['reject-with'] !== undefined) {
      if (!REJECT_WITH.has(props['reject-with'])) throw new Trap('invalid value for argument reject-with', 1);
      if (props['reject-with'] === 'tcp-reset' && props.protocol !== 'tcp') throw new Trap('failure: tcp-reset reject can be used only with tcp protocol');
    }
    if (props.protocol !== undefined && !['tcp', 'udp', 'icmp'].includes(props.protocol)) throw new Trap('invalid value for argument protocol', 1);
    if (props['dst-port'] !== undefined) {
      if (props.protocol !== 'tcp' && props.protocol !== 'udp') throw new Trap('failure: dst-port can be used only with tcp or udp protocol');
      const ports = props['dst-port'].split(',');
      if (ports.length > 15 || ports.some((p) => !/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535)) throw new Trap('invalid value for argument dst-port', 1);
    }
    for (const k of ['src-address', 'dst-address']) if (props[k] !== undefined && !parseAddress(props[k])) throw new Trap(`invalid value for argument ${k}`, 1);
    for (const k of ['src-address-list', 'dst-address-list']) if (props[k] !== undefined && !LIST_NAME.test(props[k])) throw new Trap(`invalid value for argument ${k}`, 1);
    if (props['connection-state'] !== undefined && props['connection-state'].split(',').some((s) => !CONN_STATES.has(s))) throw new Trap('invalid value for argument connection-state', 1);
    if (props['dst-limit'] !== undefined && !DST_LIMIT.test(props['dst-limit'])) throw new Trap('invalid value for argument dst-limit', 1);
    const rule = { id: this.newId(), dynamic: false, props };
    const before = attrs.get('place-before');
    if (before === undefined) this.filter.push(rule);
    else {
      const i = this.filter.findIndex((r) => r.id === before);
      if (i < 0) throw new Trap('no such item', 1);
      this.filter.splice(i, 0, rule);
    }
    return rule.id;
  }

  /** @param {Map<string,string>} attrs */
  moveRules(attrs) {
    FakeRouter.only(attrs, ['numbers', 'destination']);
    const ids = (attrs.get('numbers') ?? '').split(',');
    const moving = ids.map((id) => this.filter.find((r) => r.id === id));
    if (moving.some((r) => !r)) throw new Trap('no such item', 1);
    const dest = attrs.get('destination');
    if (dest !== undefined && !this.filter.some((r) => r.id === dest)) throw new Trap('no such item', 1);
    this.filter = this.filter.filter((r) => !ids.includes(r.id));
    const at = dest === undefined ? this.filter.length : this.filter.findIndex((r) => r.id === dest);
    this.filter.splice(at < 0 ? this.filter.length : at, 0, .../** @type {Rule[]} */ (moving));
  }

  /** @param {string} name */
  scriptByName(name) { return [...this.scripts.values()].find((s) => s.name === name); }

  /** @param {Map<string,string>} attrs */
  addScript(attrs) {
    FakeRouter.only(attrs, ['name', 'source', 'policy', 'comment', 'dont-require-permissions']);
    const name = attrs.get('name');
    if (!name) throw new Trap('missing value of name', 1);
    if (this.scriptByName(name)) throw new Trap('failure: script with the same name already exists');
    const policy = attrs.get('policy') ?? 'ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon';
    if (policy.split(',').some((p) => !POLICIES.has(p))) throw new Trap('invalid value for argument policy', 1);
    const id = this.newId();
    this.scripts.set(id, { id, name, source: attrs.get('source') ?? '', policy, runs: 0 });
    return id;
  }

  /** @param {Map<string,string>} attrs */
  runScript(attrs) {
    FakeRouter.only(attrs, ['.id', 'number']);
    const ref = attrs.get('.id') ?? attrs.get('number') ?? '';
    const script = this.scripts.get(ref) ?? this.scriptByName(ref);
    if (!script) throw new Trap('no such item', 1);
    script.runs++;
    runScript(this, script.source);
  }
}

/**
 * Evaluates API query words against one row: each word pushes a boolean, `?#` operators combine them,
 * and the row matches when every value left on the stack is true.
 * @param {Record<string,string>} row
 * @param {string[]} queries
 */
export function evalQuery(row, queries) {
  /** @type {boolean[]} */
  const stack = [];
  for (const q of queries) {
    const body = q.slice(1);
    if (body.startsWith('#')) {
      for (const op of body.slice(1)) {
        if (op === '!') stack.push(!stack.pop());
        else if (op === '&' || op === '|') {
          const b = stack.pop() ?? true;
          const a = stack.pop() ?? true;
          stack.push(op === '&' ? a && b : a || b);
        } else if (op === '.') stack.push(stack[stack.length - 1] ?? true);
        else throw new Trap(`unknown query operation ${op}`, 5);
      }
      continue;
    }
    const m = /^([<>-]?)([^=]+)(?:=(.*))?$/s.exec(body);
    if (!m) throw new Trap('invalid query', 5);
    const [, op, name, value] = /** @type {[string, string, string, string | undefined]} */ (m);
    const have = row[name];
    if (op === '-') stack.push(have === undefined);
    else if (op === '<' || op === '>') stack.push(have !== undefined && (op === '<' ? Number(have) < Number(value) : Number(have) > Number(value)));
    else if (value === undefined) stack.push(have !== undefined);
    else stack.push(have === value);
  }
  return stack.every(Boolean);
}
