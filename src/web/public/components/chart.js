// A time-series chart of message events drawn with uPlot (a 45 KB canvas
// library, loaded only on the page that shows it). It follows its container's
// width, so it fits a phone as well as a desktop.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export const SERIES = [
  { key: 'accepted', label: 'Accepted', color: '#6366f1' },
  { key: 'delivered', label: 'Delivered', color: '#16a34a' },
  { key: 'deferred', label: 'Deferred', color: '#d97706' },
  { key: 'bounced', label: 'Bounced', color: '#dc2626' },
];

let stylesheetAdded = false;
function addUplotStylesheet() {
  if (stylesheetAdded) return;
  stylesheetAdded = true;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = '/vendor/uplot.css';
  document.head.appendChild(link);
}

/**
 * @param {{ buckets: { start: number, [key: string]: number }[], interval: 'hour' | 'day', label: string, totals?: Record<string, number>, rangeLabel?: string }} props
 */
export function EventsChart({ buckets, interval, label, totals, rangeLabel = 'whole range' }) {
  const box = useRef(/** @type {HTMLDivElement | null} */ (null));
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    /** @type {any} */
    let plot = null;
    /** @type {ResizeObserver | null} */
    let observer = null;
    let cancelled = false;
    addUplotStylesheet();
    import('uplot').then(({ default: uPlot }) => {
      if (cancelled) return;
      // Accepted is drawn last, dashed and unfilled: it often equals Delivered and must not hide under it.
      const drawn = [...SERIES.filter((s) => s.key !== 'accepted'), ...SERIES.filter((s) => s.key === 'accepted')];
      const data = [buckets.map((b) => b.start / 1000), ...drawn.map((s) => buckets.map((b) => b[s.key] ?? 0))];
      const narrow = el.clientWidth < 500;
      const opts = {
        width: el.clientWidth,
        height: narrow ? 220 : 280,
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (/** @type {any} */ _u, /** @type {number} */ _min, /** @type {number} */ max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
        axes: [
          { stroke: '#64748b', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#e2e8f0' }, space: narrow ? 70 : 90 },
          { stroke: '#64748b', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#e2e8f0' }, size: 44 },
        ],
        series: [
          // With the pointer on the chart the legend shows that hour's (or day's) values;
          // otherwise the totals of the whole range, never an empty legend.
          { label: 'Time', value: (/** @type {any} */ _u, /** @type {number | null} */ v) => (v === null ? rangeLabel : new Date(v * 1000).toLocaleString(undefined, interval === 'hour' ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' })) },
          ...drawn.map((s) => ({
            label: s.label, stroke: s.color, width: 2,
            value: (/** @type {any} */ _u, /** @type {number | null} */ v) => (v === null ? (totals ? String(totals[s.key] ?? 0) : '–') : String(v)),
            ...(s.key === 'accepted' ? { dash: [6, 4] } : { fill: `${s.color}12` }),
            points: { show: false },
          })),
        ],
        // On a phone the coloured tiles above the chart are the legend.
        legend: { show: !narrow },
      };
      plot = new uPlot(opts, data, el);
      observer = new ResizeObserver(() => plot?.setSize({ width: el.clientWidth, height: el.clientWidth < 500 ? 220 : 280 }));
      observer.observe(el);
    }).catch(() => setFailed(true));
    return () => {
      cancelled = true;
      observer?.disconnect();
      plot?.destroy();
    };
  }, [buckets, interval, totals, rangeLabel]);

  if (failed) return html`<p class="muted">The chart could not be drawn; the numbers are in the table below.</p>`;
  return html`<div class="chart" ref=${box} role="img" aria-label=${label}></div>`;
}
