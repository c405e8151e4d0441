/**
 * The fabric graph (cytoscape): spines on top, leaves below, hosts under their leaf (preset positions,
 * recomputed when the set of nodes changes). Every directed link is its own edge (a pair of curves per
 * cable), coloured and sized by its load; a link the controller no longer has is removed at once.
 */
import cytoscape from 'cytoscape';
import type { UiHost, UiLink, UiSwitch } from '../../controller/rest/ui-model.js';
import { loadColor, loadWidth, pct, rateShort } from './format.js';

export type Selection = { kind: 'switch'; dpid: string } | { kind: 'link'; linkId: string; label: string } | null;

export interface GraphEvent {
  readonly kind: 'edge-added' | 'edge-removed' | 'edge-color';
  readonly id: string;
  readonly color?: string;
  readonly atMs: number;
}

interface EdgeSpec {
  id: string;
  source: string;
  target: string;
  linkId: string;
  label: string;
  color: string;
  width: number;
  text: string;
  kind: 'fabric' | 'host';
}

const swNode = (dpid: string): string => `sw:${dpid}`;
const hostNode = (mac: string): string => `h:${mac}`;

function load(allocated: number | null, measured: number | null): number {
  return Math.max(allocated ?? 0, measured ?? 0);
}

export class FabricGraph {
  readonly cy: cytoscape.Core;
  /** changes applied, for the browser tests (bounded) */
  readonly events: GraphEvent[] = [];
  private nodeKey = '';
  private switchNames = new Map<string, string>();

  constructor(container: HTMLElement, private readonly onSelect: (s: Selection) => void) {
    this.cy = cytoscape({
      container,
      elements: [],
      layout: { name: 'preset' },
      minZoom: 0.2,
      maxZoom: 3,
      wheelSensitivity: 0.3,
      style: [
        { selector: 'node', style: { 'label': 'data(label)', 'text-wrap': 'wrap', 'font-size': 10, 'text-valign': 'center', 'text-halign': 'center', 'color': '#fff', 'width': 116, 'height': 38, 'shape': 'round-rectangle', 'border-width': 2, 'border-color': '#0000' } },
        { selector: 'node[role = "spine"]', style: { 'background-color': '#2463c7' } },
        { selector: 'node[role = "leaf"]', style: { 'background-color': '#1f7a46' } },
        { selector: 'node[role = "unknown"]', style: { 'background-color': '#6b7785' } },
        { selector: 'node[?down]', style: { 'background-color': '#c9ced4', 'color': '#444', 'border-style': 'dashed', 'border-color': '#a33' } },
        { selector: 'node[role = "host"]', style: { 'background-color': '#eef2f6', 'color': '#1d2733', 'shape': 'round-rectangle', 'width': 82, 'height': 30, 'font-size': 9, 'border-color': '#9aa5b1', 'border-width': 1 } },
        { selector: 'node:selected', style: { 'border-color': '#f5a623', 'border-width': 3 } },
        { selector: 'edge', style: { 'curve-style': 'bezier', 'control-point-step-size': 22, 'target-arrow-shape': 'triangle', 'arrow-scale': 0.7, 'line-color': 'data(color)', 'target-arrow-color': 'data(color)', 'width': 'data(width)', 'label': 'data(text)', 'font-size': 8, 'color': '#333', 'text-background-color': '#fff', 'text-background-opacity': 0.8, 'text-background-padding': '1px', 'text-rotation': 'autorotate' } },
        { selector: 'edge:selected', style: { 'overlay-color': '#f5a623', 'overlay-opacity': 0.35, 'overlay-padding': 3 } },
      ],
    });
    this.cy.on('tap', 'node', (e) => {
      const d = e.target.data() as { role: string; dpid?: string };
      if (d.dpid && d.role !== 'host') this.onSelect({ kind: 'switch', dpid: d.dpid });
    });
    this.cy.on('tap', 'edge', (e) => {
      const d = e.target.data() as EdgeSpec;
      this.onSelect({ kind: 'link', linkId: d.linkId, label: d.label });
    });
    this.cy.on('tap', (e) => {
      if (e.target === this.cy) this.onSelect(null);
    });
  }

  /** Display name of a switch by dpid (its dpid when unknown). */
  name(dpid: string): string {
    return this.switchNames.get(dpid) ?? dpid;
  }

  private record(e: GraphEvent): void {
    this.events.push(e);
    if (this.events.length > 2000) this.events.splice(0, 1000);
  }

  /** Brings the graph to this state (one batch; positions recomputed when nodes came or went). */
  update(switches: readonly UiSwitch[], links: readonly UiLink[], hosts: readonly UiHost[]): void {
    const now = Date.now();
    this.switchNames = new Map(switches.map((s) => [s.dpid, s.name]));
    const nodes: { id: string; data: Record<string, unknown> }[] = [];
    for (const s of switches) {
      nodes.push({ id: swNode(s.dpid), data: { role: s.role, dpid: s.dpid, down: !s.connected, label: `${s.name}${s.connected ? '' : ' (down)'}\n${s.dpid}` } });
    }
    const hostsShown = hosts.filter((h) => this.switchNames.has(h.dpid));
    for (const h of hostsShown) nodes.push({ id: hostNode(h.mac), data: { role: 'host', label: `${h.ipv4 ?? '?'}\n${h.mac}`, leaf: h.dpid } });
    const edges: EdgeSpec[] = [];
    for (const l of links) {
      const u = l.capacityBps > 0 ? load(l.allocatedBps, l.measuredBps) / l.capacityBps : 0;
      const ld = load(l.allocatedBps, l.measuredBps);
      edges.push({
        id: `l:${l.id}`, source: swNode(l.src.dpid), target: swNode(l.dst.dpid), linkId: l.id, kind: 'fabric',
        label: `${this.name(l.src.dpid)}:${l.src.port} → ${this.name(l.dst.dpid)}:${l.dst.port}`,
        color: loadColor(u), width: loadWidth(u), text: ld > 0 ? `${rateShort(ld)} ${pct(u)}` : '',
      });
    }
    for (const h of hostsShown) {
      const cap = h.capacityBps;
      const mk = (dir: 'up' | 'down'): void => {
        const ld = load(h[dir].allocatedBps, h[dir].measuredBps);
        const u = cap > 0 ? ld / cap : 0;
        const hostId = hostNode(h.mac);
        edges.push({
          id: `${dir === 'up' ? 'hu' : 'hd'}:${h.mac}`, kind: 'host',
          source: dir === 'up' ? hostId : swNode(h.dpid), target: dir === 'up' ? swNode(h.dpid) : hostId,
          linkId: dir === 'up' ? `host:${h.ipv4 ?? ''}` : `${h.dpid}:${h.port}`,
          label: dir === 'up' ? `${h.ipv4 ?? h.mac} → ${this.name(h.dpid)}:${h.port}` : `${this.name(h.dpid)}:${h.port} → ${h.ipv4 ?? h.mac}`,
          color: loadColor(u), width: loadWidth(u), text: ld > 0 ? `${rateShort(ld)} ${pct(u)}` : '',
        });
      };
      mk('up');
      mk('down');
    }
    const key = nodes.map((n) => n.id).sort().join(',');
    const relayout = key !== this.nodeKey;
    this.nodeKey = key;
    const cy = this.cy;
    cy.batch(() => {
      const wantNodes = new Set(nodes.map((n) => n.id));
      const wantEdges = new Set(edges.map((e) => e.id));
      cy.edges().forEach((e) => {
        if (!wantEdges.has(e.id())) {
          this.record({ kind: 'edge-removed', id: e.id(), atMs: now });
          e.remove();
        }
      });
      cy.nodes().forEach((n) => {
        if (!wantNodes.has(n.id())) n.remove();
      });
      for (const n of nodes) {
        const el = cy.getElementById(n.id);
        if (el.empty()) cy.add({ group: 'nodes', data: { id: n.id, ...n.data }, position: { x: 0, y: 0 } });
        else if (JSON.stringify(el.data()) !== JSON.stringify({ id: n.id, ...n.data })) el.data(n.data);
      }
      for (const e of edges) {
        const el = cy.getElementById(e.id);
        if (el.empty()) {
          cy.add({ group: 'edges', data: { ...e } });
          this.record({ kind: 'edge-added', id: e.id, color: e.color, atMs: now });
        } else {
          const d = el.data() as EdgeSpec;
          if (d.color !== e.color || d.width !== e.width || d.text !== e.text || d.label !== e.label) {
            if (d.color !== e.color) this.record({ kind: 'edge-color', id: e.id, color: e.color, atMs: now });
            el.data({ color: e.color, width: e.width, text: e.text, label: e.label });
          }
        }
      }
      if (relayout) this.place(switches, hostsShown);
    });
    if (relayout) cy.fit(undefined, 24);
  }

  /** Spines in a row on top, leaves below, each leaf's hosts in a row under it. */
  private place(switches: readonly UiSwitch[], hosts: readonly UiHost[]): void {
    const byDpid = (a: UiSwitch, b: UiSwitch): number => (a.dpid < b.dpid ? -1 : 1);
    const spines = switches.filter((s) => s.role === 'spine').sort(byDpid);
    const leaves = switches.filter((s) => s.role !== 'spine').sort(byDpid);
    const hostsOf = new Map<string, UiHost[]>();
    for (const h of hosts) (hostsOf.get(h.dpid) ?? hostsOf.set(h.dpid, []).get(h.dpid)!).push(h);
    const hostW = 92;
    const leafSlot = Math.max(150, ...leaves.map((l) => (hostsOf.get(l.dpid)?.length ?? 0) * hostW));
    const width = Math.max(leaves.length * leafSlot, spines.length * 170);
    const row = (n: number, i: number, slot: number): number => (width - n * slot) / 2 + slot * (i + 0.5);
    spines.forEach((s, i) => this.cy.getElementById(swNode(s.dpid)).position({ x: row(spines.length, i, width / Math.max(1, spines.length)), y: 0 }));
    leaves.forEach((l, i) => {
      const x = row(leaves.length, i, leafSlot);
      this.cy.getElementById(swNode(l.dpid)).position({ x, y: 230 });
      const hs = (hostsOf.get(l.dpid) ?? []).sort((a, b) => a.port - b.port);
      hs.forEach((h, j) => this.cy.getElementById(hostNode(h.mac)).position({ x: x + (j - (hs.length - 1) / 2) * hostW, y: 370 }));
    });
  }
}
