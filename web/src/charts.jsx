// A queue's last hours as two small charts: how many waited (the peak of each step, and the
// depth at its end), and the share of first responses made in time (steps with answers only).
// Read again every 30 seconds.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';

const W = 600; const H = 120; const PAD = 28;

function Chart({ label, points, value, peak, max, unit, testid, empty }) {
  const n = points.length;
  const x = (k) => PAD + (k / Math.max(1, n - 1)) * (W - PAD - 6);
  const y = (v) => H - 16 - (v / max) * (H - 26);
  const line = (get) => points
    .map((p, k) => [k, get(p)])
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v], i) => `${i ? 'L' : 'M'}${x(k).toFixed(1)},${y(v).toFixed(1)}`)
    .join(' ');
  const first = points[0] ? new Date(points[0].at) : null;
  return (
    <figure class="chart" data-testid={testid}>
      <figcaption>{label}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        <line x1={PAD} x2={W - 6} y1={y(0)} y2={y(0)} stroke="#bbb" />
        <text x="2" y={y(max) + 4} font-size="11">{max}{unit}</text>
        <text x="2" y={y(0) + 4} font-size="11">0</text>
        {first && <text x={PAD} y={H - 2} font-size="11">{first.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</text>}
        <text x={W - 40} y={H - 2} font-size="11">{t('now')}</text>
        {peak && <path d={line(peak)} fill="none" stroke="#9bb7e0" stroke-width="1.5" />}
        <path d={line(value)} fill="none" stroke="#0b5cad" stroke-width="2" />
        {empty && <text x={W / 2} y={H / 2} font-size="13" text-anchor="middle" fill="#555">{empty}</text>}
      </svg>
    </figure>
  );
}

export function QueueCharts({ queue, onError }) {
  const [trend, setTrend] = useState(null);
  useEffect(() => {
    let live = true;
    setTrend(null);
    const load = () => api('GET', `/queues/${encodeURIComponent(queue)}/trend?hours=8&step_secs=300`)
      .then((tr) => live && setTrend(tr))
      .catch((err) => { if (live) { setTrend(null); if (err.status !== 404) onError(err); } });
    load();
    const every = setInterval(load, 30_000);
    return () => { live = false; clearInterval(every); };
  }, [queue]);
  if (!trend) return null;
  const points = trend.points;
  const deepest = Math.max(1, ...points.map((p) => p.max_depth));
  return (
    <div class="charts">
      <Chart label={`${t('depthOver')} ${trend.hours} h: ${queue}`} points={points} testid="chart-depth"
        value={(p) => p.depth} peak={(p) => p.max_depth} max={deepest} unit="" />
      <Chart label={`${t('inTargetOver')} ${trend.hours} h: ${queue}`} points={points} testid="chart-service"
        value={(p) => (p.answered ? p.percent_within_target : null)} max={100} unit="%"
        empty={points.some((p) => p.answered) ? '' : t('noAnswers')} />
    </div>
  );
}
