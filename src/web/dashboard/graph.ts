/**
 * The job graph: one box per vertex (its chain's operators, parallelism, records in/out
 * per second), one arrow per edge labelled with its partitioner (Flink's ship strategy:
 * HASH, FORWARD, REBALANCE, BROADCAST), laid out left to right by dagre and drawn as SVG.
 * A box is coloured by its backpressure level as Flink's web UI colours it: ok (green),
 * low (orange), high (red), from backPressuredTimeMsPerSecond (<= 100, <= 500, above).
 * Idea: Flink's job graph view (flink-runtime-web, dagre-d3).
 */
import { Graph, layout } from '@dagrejs/dagre';
import type { JobDetails, PlanNode } from './api.js';
import { num, s } from './dom.js';

const nodeWidth = 270;
const nodeHeight = 78;

export interface GraphView {
  /** Shows the latest rates and backpressure of each vertex. */
  update(details: JobDetails): void;
}

/** Draws `nodes` into `container`; `onSelect` gets a vertex id when its box is clicked. */
export function drawGraph(container: HTMLElement, nodes: PlanNode[], onSelect: (vertexId: string) => void): GraphView {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 30, ranksep: 90, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: nodeWidth, height: nodeHeight });
  for (const n of nodes) for (const input of n.inputs ?? []) g.setEdge(input.id, n.id, { label: input.ship_strategy, width: 80, height: 16, labelpos: 'c' }, `${input.id}-${n.id}-${input.num}`);
  layout(g);
  const { width = 400, height = 200 } = g.graph();
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'job-graph', role: 'img', 'aria-label': 'job graph' });
  svg.append(s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' }, s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow-head' }))));
  for (const e of g.edges()) {
    const edge = g.edge(e) as { points: Array<{ x: number; y: number }>; x: number; y: number; label: string };
    const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' ');
    svg.append(s('g', { class: 'edge', 'data-from': e.v, 'data-to': e.w, 'data-partitioner': edge.label }, s('path', { d, 'marker-end': 'url(#arrow)' }), s('text', { x: edge.x, y: edge.y - 4, 'text-anchor': 'middle' }, edge.label)));
  }
  const boxes = new Map<string, { g: SVGElement; rate: SVGElement; bp: SVGElement }>();
  for (const n of nodes) {
    const { x, y } = g.node(n.id) as { x: number; y: number };
    const left = x - nodeWidth / 2;
    const top = y - nodeHeight / 2;
    const name = n.operators.map((o) => o.name).join(' → ');
    const rate = s('text', { x: left + 10, y: top + 50, class: 'rate' }, 'in – /s · out – /s');
    const bp = s('text', { x: left + 10, y: top + 68, class: 'bp' }, 'backpressure –');
    const box = s(
      'g',
      { class: 'vertex bp-unknown', 'data-vertex-id': n.id, 'data-name': n.description, tabindex: 0 },
      s('rect', { x: left, y: top, width: nodeWidth, height: nodeHeight, rx: 6 }),
      s('text', { x: left + 10, y: top + 18, class: 'name' }, s('title', {}, n.description), name.length > 40 ? `${name.slice(0, 39)}…` : name),
      s('text', { x: left + 10, y: top + 33, class: 'parallelism' }, `parallelism ${n.parallelism}`),
      rate,
      bp,
    );
    box.addEventListener('click', () => onSelect(n.id));
    svg.append(box);
    boxes.set(n.id, { g: box, rate, bp });
  }
  container.replaceChildren(svg);
  return {
    update(details) {
      for (const v of details.vertices) {
        const box = boxes.get(v.id);
        if (box === undefined) continue;
        const r = v.rates;
        box.g.setAttribute('class', `vertex bp-${r.backpressureLevel}`);
        box.g.setAttribute('data-records-in-rate', String(r.numRecordsInPerSecond));
        box.g.setAttribute('data-records-out-rate', String(r.numRecordsOutPerSecond));
        box.g.setAttribute('data-backpressure', r.backpressureLevel);
        box.rate.textContent = `in ${num(r.numRecordsInPerSecond)}/s · out ${num(r.numRecordsOutPerSecond)}/s`;
        box.bp.textContent = `backpressure ${r.backpressureLevel} (${num(r.backPressuredTimeMsPerSecond)} ms/s) · busy ${num(r.busyTimeMsPerSecond)} ms/s`;
      }
    },
  };
}
