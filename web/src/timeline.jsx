// An interaction's replay as a timeline: a picture of who acted when (one lane per principal,
// a mark per event along the time the thread took), then each step in words with the state
// after it and, for an offer, routing's explanation (the rule, the rank among those eligible).
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';

const kindOf = (p) => (p || '').split(':')[0];
const COLOURS = { user: '#0b5cad', system: '#6b6b6b', customer: '#b05a00' };

function stateLine(s) {
  const parts = [s.status];
  if (s.queue) parts.push(`${t('queue')} ${s.queue}`);
  if (s.offered_to) parts.push(`${t('offeredTo')} ${s.offered_to}`);
  if (s.owner) parts.push(`${t('owner')} ${s.owner}`);
  parts.push(`${t('priority')} ${s.priority}`);
  return parts.join(' · ');
}

function explanation(d) {
  return `${d.rule}: ${t('rank')} ${d.rank} / ${d.eligible}${d.skills && d.skills.length ? ` (${d.skills.join(', ')})` : ''}`;
}

export function Timeline({ id, onError, onClose }) {
  const [history, setHistory] = useState(null);
  useEffect(() => {
    let live = true;
    setHistory(null);
    api('GET', `/interactions/${encodeURIComponent(id)}/history`)
      .then((h) => live && setHistory(h))
      .catch((err) => { if (live) { onError(err); onClose(); } });
    return () => { live = false; };
  }, [id]);
  if (!history) return <section class="timeline" aria-busy="true" />;
  const steps = history.events;
  const times = steps.map((s) => Date.parse(s.event.recorded_at));
  const start = Math.min(...times);
  const span = Math.max(1, Math.max(...times) - start);
  const lanes = [...new Set(steps.map((s) => s.event.principal))];
  const W = 640; const lane = 22; const left = 170;
  const x = (ms) => left + ((ms - start) / span) * (W - left - 10);
  const offset = (ms) => {
    const s = Math.round((ms - start) / 1000);
    return s >= 3600 ? `+${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min` : s >= 60 ? `+${Math.floor(s / 60)} min ${s % 60} s` : `+${s} s`;
  };
  return (
    <section class="timeline" aria-label={t('timeline')} data-testid="timeline">
      <h2>{t('timeline')}</h2>
      <button onClick={onClose}>{t('close')}</button>
      <svg viewBox={`0 0 ${W} ${lanes.length * lane + 10}`} role="img" aria-label={`${t('timeline')}: ${lanes.join(', ')}`}>
        {lanes.map((p, i) => (
          <g key={p}>
            <text x="4" y={i * lane + 18} font-size="12">{p.length > 26 ? `${p.slice(0, 25)}…` : p}</text>
            <line x1={left} x2={W - 10} y1={i * lane + 14} y2={i * lane + 14} stroke="#ddd" />
          </g>
        ))}
        {steps.map((s, n) => (
          <circle key={n} cx={x(times[n])} cy={lanes.indexOf(s.event.principal) * lane + 14} r="5"
            fill={COLOURS[kindOf(s.event.principal)] || '#333'}>
            <title>{`${s.event.type} · ${s.event.recorded_at}`}</title>
          </circle>
        ))}
      </svg>
      <ol class="steps">
        {steps.map((s, n) => (
          <li key={n}>
            <span class="when">{offset(times[n])}</span>
            <span class="who">{s.event.principal}</span>
            <strong>{s.event.type}</strong>
            {s.event.type === 'OfferExplained' && <span class="why"> {explanation(s.event.data)}</span>}
            {s.interaction_id !== history.interaction_id && <span class="meta"> ({s.interaction_id.slice(0, 8)})</span>}
            <div class="after">{stateLine(s.state)}</div>
          </li>
        ))}
      </ol>
    </section>
  );
}
