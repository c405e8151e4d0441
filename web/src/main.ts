/**
 * Rivulet's live web view: one WebSocket (/ui/ws) carrying a snapshot, then deltas of the sections that
 * changed (controller/rest/ui-model.ts); each section is drawn by its panel. Read-only.
 * `window.__rivulet` exposes the state and timings for the browser tests.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import type { UiAllocatorSample, UiMessage, UiSnapshot, UiSwitchDetail } from '../../controller/rest/ui-model.js';
import { ago, bytes, esc, micros, pct, rate } from './format.js';
import { FabricGraph, type Selection } from './graph.js';
import { FlowletTable } from './table.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

interface TestHooks {
  state: Partial<UiSnapshot>;
  seq: number;
  /** per applied message: epoch ms received, ms spent applying it */
  applied: { seq: number; atMs: number; applyMs: number; sections: string[] }[];
  graph: FabricGraph;
  table: FlowletTable;
  connected: boolean;
}

const state: Partial<UiSnapshot> = {};
let history: UiAllocatorSample[] = [];
let selection: Selection = null;
let detail: UiSwitchDetail | null = null;
let detailReq = 0;
let ws: WebSocket | undefined;

const graph = new FabricGraph($('graph'), (s) => select(s));
const table = new FlowletTable($<HTMLTableElement>('flowlets'), $('pager'), $('flowlet-count'), $<HTMLInputElement>('flowlet-filter'), (d) => graph.name(d));
const hooks: TestHooks = { state, seq: 0, applied: [], graph, table, connected: false };
(window as unknown as { __rivulet: TestHooks }).__rivulet = hooks;

/* ------------------------------------------------------------------ connection */

function token(): string | null {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) sessionStorage.setItem('rivulet-token', decodeURIComponent(m[1]!));
  return sessionStorage.getItem('rivulet-token');
}

function connect(backoffMs = 500): void {
  const base = location.pathname.endsWith('/') ? location.pathname : location.pathname.replace(/[^/]*$/, '');
  const t = token();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${base}ui/ws${t ? `?token=${encodeURIComponent(t)}` : ''}`;
  const sock = new WebSocket(url);
  ws = sock;
  let opened = false;
  sock.onopen = () => {
    opened = true;
    hooks.connected = true;
    setConn('live', 'live');
  };
  sock.onmessage = (ev) => onMessage(JSON.parse(String(ev.data)) as UiMessage);
  sock.onclose = () => {
    hooks.connected = false;
    const next = opened ? 500 : Math.min(5000, backoffMs * 2);
    setConn('down', `disconnected — retrying in ${(next / 1000).toFixed(1)} s`);
    setTimeout(() => connect(next), next);
  };
}

function setConn(cls: string, text: string): void {
  const el = $('conn');
  el.className = `conn ${cls}`;
  el.textContent = text;
}

function onMessage(m: UiMessage): void {
  const t0 = performance.now();
  if (m.type === 'detail') {
    if (m.reqId === detailReq) {
      detail = m.detail;
      renderDetail();
    }
    return;
  }
  if (m.type === 'snapshot') {
    history = [...m.history];
    for (const k of Object.keys(state) as (keyof UiSnapshot)[]) delete state[k];
  }
  const sections = Object.keys(m.sections) as (keyof UiSnapshot)[];
  Object.assign(state, m.sections);
  if (m.sections.allocator?.sample && (history.length === 0 || history[history.length - 1]!.t !== m.sections.allocator.sample.t)) {
    history.push(m.sections.allocator.sample);
    if (history.length > 300) history.splice(0, history.length - 300);
  }
  const has = (k: keyof UiSnapshot): boolean => m.type === 'snapshot' || sections.includes(k);
  if ((has('switches') || has('links') || has('hosts')) && state.switches && state.links && state.hosts) graph.update(state.switches, state.links, state.hosts);
  if (has('flowlets') && state.flowlets) table.set(state.flowlets.rows, state.flowlets.total);
  if (has('health') || has('agents')) renderHealth();
  if (has('allocator')) renderAllocator();
  if (has('tenants')) renderTenants();
  if (has('agents')) renderAgents();
  if (selection?.kind === 'link' && (has('flowlets') || has('links'))) renderDetail();
  hooks.seq = m.seq;
  hooks.applied.push({ seq: m.seq, atMs: Date.now(), applyMs: performance.now() - t0, sections });
  if (hooks.applied.length > 5000) hooks.applied.splice(0, 2500);
}

/* ------------------------------------------------------------------ panels */

function renderHealth(): void {
  const h = state.health;
  if (!h) return;
  const b = (label: string, value: string | number, cls = ''): string => `<span class="badge ${cls}">${esc(label)} <b>${esc(value)}</b></span>`;
  $('health').innerHTML = [
    b('ready', h.ready ? 'yes' : 'no', h.ready ? 'ok' : 'bad'),
    b('switches', h.switches), b('links', h.links), b('hosts', h.hosts), b('routes', h.routes),
    b('agents', h.agents), b('flowlets', h.flowlets),
    b('dropped packet-ins', h.droppedPacketIns ?? 'n/a'),
    b('up', ago(h.startedEpochMs, Date.now()).replace(' ago', '')), b('v', h.version),
  ].join('');
}

let runsChart: uPlot | undefined;
let timesChart: uPlot | undefined;
/** time of the last point drawn (the charts redraw once a second, when a point arrives) */
let chartLastT: number | undefined;

function chartData(): { runs: uPlot.AlignedData; times: uPlot.AlignedData } {
  const t = history.map((p) => p.t);
  return {
    runs: [t, history.map((p) => p.runsPerS), history.map((p) => p.updatesPerS), history.map((p) => p.flowlets)],
    times: [t, ...(['lastRunUs', 'reactionP50Us', 'reactionP99Us'] as const).map((k) => history.map((p) => (p[k] === null ? null : p[k]! / 1000)))] as uPlot.AlignedData,
  };
}

function renderAllocator(): void {
  const a = state.allocator;
  const el = $('allocator');
  if (!a) {
    el.innerHTML = '<p class="hint">no live allocation in this controller</p>';
    return;
  }
  const last = history[history.length - 1];
  const kv: [string, string][] = [
    ['policy / mode', `${a.policy} / ${a.mode} (meters per ${a.meterPer})`],
    ['runs', `${a.runs} (${last ? last.runsPerS.toFixed(1) : '—'}/s), iterations ${a.iterations}`],
    ['last run', micros(a.lastRunDurationUs)],
    ['events/s', a.eventsPerSecond.toFixed(1)],
    ['flowlets', `${a.activeFlowlets} active: ${a.allocatedFlowlets} allocated, ${a.smallFlowlets} small, ${a.pendingFlowlets} pending path`],
    ['rate updates sent', `agents ${a.updatesSent.agents}, meters ${a.updatesSent.meters}`],
    ['reaction p50 / p99', `agent ${micros(a.reaction.agent.p50Us)} / ${micros(a.reaction.agent.p99Us)}; meter ${micros(a.reaction.meter.p50Us)} / ${micros(a.reaction.meter.p99Us)}`],
  ];
  el.innerHTML = `<dl class="kv">${kv.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
  const width = Math.max(280, $('allocator-panel').clientWidth - 24);
  const d = chartData();
  if (!runsChart) {
    runsChart = new uPlot({
      width, height: 120, title: 'runs/s, rate updates/s, flowlets',
      scales: { x: { time: true }, f: {} },
      series: [{}, { label: 'runs/s', stroke: '#2463c7' }, { label: 'updates/s', stroke: '#d9822b' }, { label: 'flowlets', stroke: '#1f7a46', scale: 'f' }],
      axes: [{}, { size: 40 }, { scale: 'f', side: 1, size: 40, grid: { show: false } }],
      legend: { live: false },
    }, d.runs, $('chart-runs'));
    timesChart = new uPlot({
      width, height: 120, title: 'last run and reaction, ms',
      scales: { x: { time: true } },
      series: [{}, { label: 'run', stroke: '#6b7785' }, { label: 'reaction p50', stroke: '#1f7a46' }, { label: 'p99', stroke: '#a33' }],
      axes: [{}, { size: 50, values: (_u: uPlot, vals: number[]) => vals.map((v) => (v >= 10 ? v.toFixed(0) : v.toFixed(1))) }],
      legend: { live: false },
    }, d.times, $('chart-times'));
  } else if (last?.t !== chartLastT) {
    runsChart.setData(d.runs);
    timesChart!.setData(d.times);
  }
  chartLastT = last?.t;
}

function renderTenants(): void {
  const ts = state.tenants ?? [];
  $('tenants').innerHTML = ts.length === 0
    ? '<p class="hint">no tenants configured and no flowlets</p>'
    : `<table class="grid"><thead><tr><th>tenant</th><th class="num">weight</th><th class="num">flowlets</th><th class="num">measured</th><th class="num">allocated</th><th>share got | weight share</th></tr></thead><tbody>${ts.map((t) => `<tr><td>${esc(t.name)}</td><td class="num">${esc(t.weight)}</td><td class="num">${t.flowlets}</td><td class="num">${rate(t.measuredBps)}</td><td class="num">${rate(t.allocatedBps)}</td><td><div class="bar" title="${pct(t.throughputShare)} of the throughput, ${pct(t.weightShare)} by weight"><div class="got" style="width:${(t.throughputShare * 100).toFixed(1)}%"></div><div class="want" style="left:${(t.weightShare * 100).toFixed(1)}%"></div></div> ${pct(t.throughputShare)} | ${pct(t.weightShare)}</td></tr>`).join('')}</tbody></table>`;
}

function renderAgents(): void {
  const as = state.agents ?? [];
  const now = Date.now();
  $('agents').innerHTML = as.length === 0
    ? '<p class="hint">no host agent has registered</p>'
    : `<table class="grid"><thead><tr><th>agent</th><th>interface</th><th>IPv4</th><th>state</th><th>last seen</th><th class="num">flowlets</th></tr></thead><tbody>${as.map((a) => `<tr><td>${esc(a.id)}</td><td>${esc(a.interface)}</td><td>${esc(a.ipv4.join(' '))}</td><td class="${a.connected ? 'ok' : 'no'}">${a.connected ? 'connected' : 'gone'}</td><td>${ago(a.lastSeenEpochMs, now)}</td><td class="num">${a.flowlets}</td></tr>`).join('')}</tbody></table>`;
}

/* ------------------------------------------------------------------ selection */

function select(s: Selection): void {
  selection = s;
  detail = null;
  if (s?.kind === 'switch') requestDetail();
  renderDetail();
}

function requestDetail(): void {
  if (selection?.kind !== 'switch' || !ws || ws.readyState !== WebSocket.OPEN) return;
  ws.send(JSON.stringify({ type: 'detail', reqId: ++detailReq, dpid: selection.dpid }));
}
setInterval(requestDetail, 2000);

function yesNo(p: { required: boolean; applied: boolean; detail: string }): string {
  return `<span class="${p.applied ? 'ok' : p.required ? 'no' : ''}">${p.applied ? 'applied' : p.required ? 'not applied' : 'not needed'}</span> <span class="hint">${esc(p.detail)}</span>`;
}

function renderDetail(): void {
  const title = $('detail-title');
  const el = $('detail');
  if (!selection) {
    title.textContent = 'Details';
    el.innerHTML = '<p class="hint">Click a switch for its ports, queues, ECN, meters and pinned routes; click a link for the flowlets crossing it.</p>';
    return;
  }
  if (selection.kind === 'link') {
    const id = selection.linkId;
    const link = state.links?.find((l) => l.id === id);
    const fl = (state.flowlets?.rows ?? []).filter((f) => f.links.includes(id));
    title.textContent = `Link ${selection.label}`;
    const head = link
      ? `<dl class="kv"><dt>capacity</dt><dd>${rate(link.capacityBps)}</dd><dt>allocated</dt><dd>${rate(link.allocatedBps)}${link.allocatedBps !== null && link.capacityBps ? ` (${pct(link.allocatedBps / link.capacityBps)})` : ''}</dd><dt>measured</dt><dd>${rate(link.measuredBps)}${link.measuredBps !== null && link.capacityBps ? ` (${pct(link.measuredBps / link.capacityBps)})` : ''}</dd></dl>`
      : '';
    el.innerHTML = `${head}<h3>${fl.length} flowlet${fl.length === 1 ? '' : 's'} crossing it</h3>${fl.length ? `<table class="grid" id="link-flowlets"><thead><tr><th>flowlet</th><th>source → destination</th><th>tenant</th><th class="num">allocated</th><th class="num">measured</th></tr></thead><tbody>${fl.slice(0, 200).map((f) => `<tr><td>${esc(f.key)}</td><td>${esc(`${f.src}:${f.sport} → ${f.dst}:${f.dport}`)}</td><td>${esc(f.tenant ?? '—')}</td><td class="num">${rate(f.allocatedBps)}</td><td class="num">${rate(f.measuredBps)}</td></tr>`).join('')}</tbody></table>` : ''}`;
    return;
  }
  const dpid = selection.dpid;
  const sw = state.switches?.find((s) => s.dpid === dpid);
  title.textContent = `Switch ${sw?.name ?? ''} ${dpid}`;
  if (!detail) {
    el.innerHTML = '<p class="hint">loading…</p>';
    return;
  }
  const d = detail;
  const qosOf = new Map(d.qos.map((q) => [q.port, q]));
  const ms = d.meterSupport;
  const ports = (d.switch?.ports ?? []).map((p) => {
    const q = qosOf.get(p.portNo);
    const queues = q ? q.queues.map((x) => `q${x.id}: ${bytes(x.counters.tcBytes ?? x.counters.ofTxBytes ?? 0)}${x.counters.tcDropped ? `, ${x.counters.tcDropped} dropped` : ''}`).join('; ') : '—';
    return `<tr><td>${p.portNo}</td><td>${esc(p.name)}</td><td class="${p.up ? 'ok' : 'no'}">${p.up ? 'up' : 'down'}</td><td class="num">${rate(p.currSpeedBps)}</td><td>${esc(p.kind)}${p.neighbor ? ` → ${esc(graph.name(p.neighbor.dpid))}:${p.neighbor.port}` : ''}</td><td>${esc(queues)}</td><td>${q ? yesNo(q.applied.ecn) : '—'}</td></tr>`;
  }).join('');
  el.innerHTML = `<dl class="kv"><dt>role</dt><dd>${esc(d.switch?.role ?? '?')}</dd><dt>connected</dt><dd>${d.switch?.connected ? `yes, from ${esc(d.switch.peer ?? '?')}` : 'no'}</dd>`
    + `<dt>meters</dt><dd>${ms ? (ms.supported ? `supported: up to ${ms.maxMeter}, bands ${esc(ms.bandTypes.join(', '))}` : `not supported${ms.reason ? `: ${esc(ms.reason)}` : ''}`) : 'unknown'}</dd>`
    + `<dt>ECN probe</dt><dd>${d.ecnProbe ? esc(`${d.ecnProbe.supported ? 'supported' : 'unsupported'}: ${d.ecnProbe.detail}`) : '—'}</dd></dl>`
    + `<h3>Ports</h3><table class="grid"><thead><tr><th>#</th><th>name</th><th>state</th><th class="num">speed</th><th>kind</th><th>queues (bytes)</th><th>ECN</th></tr></thead><tbody>${ports}</tbody></table>`
    + `<h3>Meters (${d.meters.length})</h3>${d.meters.length ? `<table class="grid"><thead><tr><th>id</th><th>key</th><th class="num">rate</th><th class="num">measured</th><th>state</th></tr></thead><tbody>${d.meters.map((m) => `<tr><td>${m.meterId}</td><td>${esc(m.key)}</td><td class="num">${rate(m.rateBps)}</td><td class="num">${rate(m.stats?.measuredBps)}</td><td>${esc(m.state)}</td></tr>`).join('')}</tbody></table>` : '<p class="hint">none</p>'}`
    + `<h3>Pinned routes (${d.routesTotal})</h3>${d.routes.length ? `<table class="grid"><thead><tr><th>flow</th><th>path</th><th>spine</th></tr></thead><tbody>${d.routes.map((r) => `<tr><td>${esc(`${r.flowKey.ipv4Src}:${r.flowKey.srcPort ?? ''} → ${r.flowKey.ipv4Dst}:${r.flowKey.dstPort ?? ''}`)}</td><td>${esc(r.path.map((h) => graph.name(h.dpid)).join(' → '))}</td><td>${esc(r.spine ? graph.name(r.spine) : '—')}</td></tr>`).join('')}</tbody></table>` : '<p class="hint">none</p>'}`;
}

setInterval(() => {
  renderHealth();
  renderAgents();
}, 1000);

connect();
