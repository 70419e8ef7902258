/**
 * Live throughput charts, one uPlot chart per vertex: records in and out per second over
 * the last `points` readings of the event stream (about one a second).
 */
import uPlot from 'uplot';
import type { JobDetails, PlanNode } from './api.js';
import { h } from './dom.js';

const points = 120;

export interface ChartsView {
  update(details: JobDetails): void;
}

export function drawCharts(container: HTMLElement, nodes: PlanNode[]): ChartsView {
  const series = new Map<string, { data: [number[], number[], number[]]; plot: uPlot }>();
  container.replaceChildren();
  for (const n of nodes) {
    const holder = h('div', { class: 'chart', 'data-vertex-id': n.id }, h('h3', {}, n.operators.map((o) => o.name).join(' → ')));
    container.append(holder);
    const data: [number[], number[], number[]] = [[], [], []];
    const plot = new uPlot(
      {
        width: 360,
        height: 160,
        legend: { show: true, live: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
        axes: [{ size: 30 }, { size: 60 }],
        series: [{}, { label: 'in/s', stroke: '#2f6fb3', width: 2 }, { label: 'out/s', stroke: '#e0843a', width: 2 }],
      },
      data,
      holder,
    );
    series.set(n.id, { data, plot });
  }
  return {
    update(details) {
      const t = details.now / 1000;
      for (const v of details.vertices) {
        const entry = series.get(v.id);
        if (entry === undefined) continue;
        const [xs, ins, outs] = entry.data;
        xs.push(t);
        ins.push(v.rates.numRecordsInPerSecond);
        outs.push(v.rates.numRecordsOutPerSecond);
        if (xs.length > points) for (const a of entry.data) a.shift();
        entry.plot.setData(entry.data);
      }
    },
  };
}
