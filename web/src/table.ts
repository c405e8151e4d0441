/**
 * The flowlet table: sortable (click a header), filterable (substring over its text columns),
 * paginated (only the shown page is in the DOM, so thousands of flowlets cost a sort, not a render).
 */
import type { UiFlowlet } from '../../controller/rest/ui-model.js';
import { esc, micros, rate } from './format.js';

interface Column {
  readonly key: string;
  readonly title: string;
  readonly num?: boolean;
  readonly value: (f: UiFlowlet) => string | number;
  readonly cell: (f: UiFlowlet) => string;
}

const PROTO: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp' };

export class FlowletTable {
  private rows: readonly UiFlowlet[] = [];
  private sortKey = 'allocated';
  private sortDesc = true;
  private filter = '';
  private page = 0;
  readonly pageSize: number;
  private readonly columns: Column[];

  constructor(
    private readonly table: HTMLTableElement,
    private readonly pager: HTMLElement,
    private readonly count: HTMLElement,
    filterInput: HTMLInputElement,
    name: (dpid: string) => string,
    pageSize = 50,
  ) {
    this.pageSize = pageSize;
    this.columns = [
      { key: 'flowlet', title: 'flowlet', value: (f) => f.key, cell: (f) => esc(f.key) },
      { key: 'src', title: 'source', value: (f) => `${f.src}:${f.sport}`, cell: (f) => esc(`${f.src}:${f.sport}`) },
      { key: 'dst', title: 'destination', value: (f) => `${f.dst}:${f.dport}`, cell: (f) => esc(`${f.dst}:${f.dport} ${PROTO[f.proto] ?? f.proto}`) },
      { key: 'tenant', title: 'tenant', value: (f) => f.tenant ?? '', cell: (f) => esc(f.tenant ?? '—') },
      { key: 'weight', title: 'weight', num: true, value: (f) => f.weight, cell: (f) => esc(f.weight) },
      { key: 'state', title: 'state', value: (f) => f.state, cell: (f) => `<span class="state-${esc(f.state)}">${esc(f.state)}</span>` },
      { key: 'path', title: 'path', value: (f) => f.hops.map(name).join(' → '), cell: (f) => esc(f.hops.length ? f.hops.map(name).join(' → ') : '—') },
      { key: 'allocated', title: 'allocated', num: true, value: (f) => f.allocatedBps ?? -1, cell: (f) => rate(f.allocatedBps) },
      { key: 'measured', title: 'measured', num: true, value: (f) => f.measuredBps ?? -1, cell: (f) => rate(f.measuredBps) },
      { key: 'reaction', title: 'reaction', num: true, value: (f) => f.reactionUs ?? -1, cell: (f) => micros(f.reactionUs) },
    ];
    const thead = this.table.tHead!;
    thead.innerHTML = `<tr>${this.columns.map((c) => `<th data-key="${c.key}" class="${c.num ? 'num' : ''}">${c.title}</th>`).join('')}</tr>`;
    thead.addEventListener('click', (e) => {
      const key = (e.target as HTMLElement).closest('th')?.dataset['key'];
      if (!key) return;
      if (key === this.sortKey) this.sortDesc = !this.sortDesc;
      else {
        this.sortKey = key;
        this.sortDesc = this.columns.find((c) => c.key === key)?.num === true;
      }
      this.render();
    });
    filterInput.addEventListener('input', () => {
      this.filter = filterInput.value.trim().toLowerCase();
      this.page = 0;
      this.render();
    });
    this.pager.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest('button');
      if (!b) return;
      this.page += b.dataset['dir'] === 'next' ? 1 : -1;
      this.render();
    });
  }

  set(rows: readonly UiFlowlet[], total: number): void {
    this.rows = rows;
    this.totalReported = total;
    this.render();
  }

  private totalReported = 0;

  /** The rows after filter and sort (all pages). */
  view(): UiFlowlet[] {
    const f = this.filter;
    const col = this.columns.find((c) => c.key === this.sortKey) ?? this.columns[0]!;
    const rows = f
      ? this.rows.filter((r) => `${r.key} ${r.src}:${r.sport} ${r.dst}:${r.dport} ${r.tenant ?? ''} ${r.state} ${r.agentId}`.toLowerCase().includes(f))
      : [...this.rows];
    const dir = this.sortDesc ? -1 : 1;
    rows.sort((a, b) => {
      const x = col.value(a);
      const y = col.value(b);
      return (x < y ? -1 : x > y ? 1 : a.key < b.key ? -1 : 1) * dir;
    });
    return rows;
  }

  render(): void {
    const rows = this.view();
    const pages = Math.max(1, Math.ceil(rows.length / this.pageSize));
    this.page = Math.min(Math.max(0, this.page), pages - 1);
    const shown = rows.slice(this.page * this.pageSize, (this.page + 1) * this.pageSize);
    this.table.tBodies[0]!.innerHTML = shown.length
      ? shown.map((f) => `<tr data-key="${esc(f.key)}">${this.columns.map((c) => `<td class="${c.num ? 'num' : ''}">${c.cell(f)}</td>`).join('')}</tr>`).join('')
      : `<tr><td colspan="${this.columns.length}" class="hint">no flowlets${this.filter ? ' match the filter' : ' (host agents report them)'}</td></tr>`;
    for (const th of this.table.tHead!.querySelectorAll('th')) {
      th.classList.toggle('sorted-asc', th.dataset['key'] === this.sortKey && !this.sortDesc);
      th.classList.toggle('sorted-desc', th.dataset['key'] === this.sortKey && this.sortDesc);
    }
    const first = rows.length ? this.page * this.pageSize + 1 : 0;
    this.pager.innerHTML = `<button data-dir="prev" ${this.page === 0 ? 'disabled' : ''}>‹</button> rows ${first}–${this.page * this.pageSize + shown.length} of ${rows.length} <button data-dir="next" ${this.page >= pages - 1 ? 'disabled' : ''}>›</button>`;
    const more = this.totalReported > this.rows.length ? ` (${this.totalReported} active, first ${this.rows.length} shown)` : '';
    this.count.textContent = `${this.rows.length} active${more}`;
  }
}
