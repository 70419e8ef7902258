/** Building DOM nodes without innerHTML (names and messages are the job's data, never markup). */

type Child = Node | string | number | null | undefined | false;

/** `<tag attrs...>children</tag>`; attributes set with setAttribute, text as text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== false) el.setAttribute(k, v === true ? '' : String(v));
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'object' ? c : String(c));
  return el;
}

const svgNs = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes. */
export function s(tag: string, attrs: Record<string, string | number> = {}, ...children: Array<Node | string>): SVGElement {
  const el = document.createElementNS(svgNs, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

export function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`dashboard: no #${id} in index.html`);
  return el;
}

/** Replaces the children of `el`. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'object' ? c : String(c))));
}

/** A table with a header row and body rows. */
export function table(head: string[], rows: Child[][], attrs: Record<string, string> = {}): HTMLTableElement {
  return h('table', attrs, h('thead', {}, h('tr', {}, ...head.map((c) => h('th', {}, c)))), h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))));
}

/** A table to show: its header cells, body rows and attributes (see `showTables`). */
export interface TableSpec {
  head: string[];
  rows: Child[][];
  attrs?: Record<string, string>;
}

/**
 * Shows `tables` in `el`. When `el` already holds tables with the same headers and row
 * counts, only the cells whose content changed are rewritten, so a refresh repaints the
 * figures that moved instead of rebuilding (and relaying out) the section.
 */
export function showTables(el: Element, ...tables: TableSpec[]): void {
  const present = [...el.children];
  const same =
    present.length === tables.length &&
    tables.every((spec, i) => {
      const t = present[i];
      return t instanceof HTMLTableElement && t.tBodies[0]?.rows.length === spec.rows.length && [...(t.tHead?.rows[0]?.cells ?? [])].map((c) => c.textContent).join('\u0000') === spec.head.join('\u0000');
    });
  if (!same) return fill(el, ...tables.map((spec) => table(spec.head, spec.rows, spec.attrs)));
  tables.forEach((spec, i) => {
    const body = (present[i] as HTMLTableElement).tBodies[0]!;
    spec.rows.forEach((row, r) => {
      const cells = body.rows[r]!.cells;
      row.forEach((c, k) => {
        const cell = cells[k];
        if (cell === undefined) return;
        if (c === null || c === undefined || c === false) {
          if (cell.childNodes.length > 0) cell.replaceChildren();
        } else if (typeof c === 'object') {
          if (!(c instanceof Element) || cell.children.length !== 1 || cell.firstElementChild!.outerHTML !== c.outerHTML) cell.replaceChildren(c);
        } else if (cell.textContent !== String(c) || cell.children.length > 0) cell.textContent = String(c);
      });
    });
  });
}

/** 12345.6 -> "12,346"; 0.5 -> "0.5". */
export function num(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

export function time(ms: number | null | undefined): string {
  return ms === null || ms === undefined || ms < 0 ? '–' : new Date(ms).toLocaleTimeString('en-GB');
}
