// The supervisor's dashboard: every queue with its depth, service level and oldest waiting;
// every agent with state, time in state and load against capacity; a queue's waiting work,
// selected and moved, reprioritised, assigned or stopped, each item's answer shown (a refusal
// with its reason). Read again every two seconds (a wall screen stays current).
import { useEffect, useState, useCallback } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';
import { Timeline } from './timeline.jsx';
import { QueueCharts } from './charts.jsx';

function ago(iso, now) {
  if (!iso) return '';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s >= 60 ? `${Math.floor(s / 60)} min` : `${s} s`;
}

export function Dashboard({ onError }) {
  const [queues, setQueues] = useState([]);
  const [levels, setLevels] = useState({});
  const [agents, setAgents] = useState([]);
  const [shown, setShown] = useState('inbound');
  const [items, setItems] = useState([]);
  const [picked, setPicked] = useState([]);
  const [answers, setAnswers] = useState([]);
  const [target, setTarget] = useState({ queue: '', agent: '', priority: '', reason: '' });
  const [now, setNow] = useState(Date.now());
  const [replayed, setReplayed] = useState(null);
  const [lookup, setLookup] = useState('');

  const load = useCallback(async () => {
    try {
      const qs = await api('GET', '/queues');
      setQueues(qs);
      const lv = {};
      await Promise.all(qs.map(async (q) => {
        lv[q.name] = await api('GET', `/queues/${encodeURIComponent(q.name)}/service-level`).catch(() => null);
      }));
      setLevels(lv);
      setAgents(await api('GET', '/agents'));
      const view = await api('GET', `/queues/${encodeURIComponent(shown)}`).catch(() => ({ items: [] }));
      setItems(view.items || []);
      setNow(Date.now());
    } catch (err) { onError(err); }
  }, [shown, onError]);
  useEffect(() => {
    load();
    const every = setInterval(load, 2000);
    return () => clearInterval(every);
  }, [load]);

  const toggle = (id) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  const act = async (action) => {
    const body = { action, ids: picked };
    if (action === 'move') body.queue = target.queue;
    if (action === 'assign') body.agent = target.agent;
    if (action === 'priority') body.priority = Number(target.priority);
    if (action === 'stop') body.reason = target.reason;
    try {
      const r = await api('POST', '/interactions/bulk', body);
      setAnswers(r.results);
      load();
    } catch (err) { onError(err); }
  };
  const field = (key) => (e) => setTarget({ ...target, [key]: e.currentTarget.value });
  return (
    <div class="dashboard">
      <section aria-label={t('queues')}>
        <h2>{t('queues')}</h2>
        <table data-testid="queues">
          <thead><tr><th>{t('queue')}</th><th>{t('depth')}</th><th>{t('atRisk')}</th><th>{t('breached')}</th><th>{t('oldest')}</th><th>{t('inTarget')}</th></tr></thead>
          <tbody>
            {queues.map((q) => {
              const l = levels[q.name];
              return (
                <tr key={q.name} aria-selected={shown === q.name}>
                  <td><button class="open" onClick={() => { setShown(q.name); setPicked([]); }}>{q.name}</button></td>
                  <td data-testid={`depth-${q.name}`}>{q.depth}</td>
                  <td>{l ? l.at_risk : ''}</td>
                  <td>{l ? l.breached : ''}</td>
                  <td>{l && l.oldest_waiting ? ago(l.oldest_waiting.waiting_since, now) : ''}</td>
                  <td>{l && l.percent_within_target !== null && l.percent_within_target !== undefined ? `${l.percent_within_target}%` : ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <QueueCharts queue={shown} onError={onError} />
        <h2>{t('agents')}</h2>
        <table data-testid="agents">
          <thead><tr><th>{t('agent')}</th><th>{t('state')}</th><th>{t('since')}</th><th>{t('load')}</th></tr></thead>
          <tbody>
            {agents.map((a) => (
              <tr key={a.user}>
                <td>{a.user}</td>
                <td>{a.state}{a.reason ? ` (${a.reason})` : ''}</td>
                <td>{ago(a.since, now)}</td>
                <td>{(a.load && a.load.email) || 0} / {(a.capacity && a.capacity.email) || 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-label={t('waiting')} class="waiting">
        <h2>{t('waitingIn')} {shown}</h2>
        <ul data-testid="waiting">
          {items.length === 0 && <li class="empty">{t('nothing')}</li>}
          {items.map((i) => (
            <li key={i.interaction_id}>
              <label>
                <input type="checkbox" checked={picked.includes(i.interaction_id)} onChange={() => toggle(i.interaction_id)} />
                {i.subject} <span class="meta">({i.from}, {t('priority')} {i.priority}{i.service_level ? `, ${i.service_level.standing}` : ''})</span>
              </label>
              {' '}<button class="link" onClick={() => setReplayed(i.interaction_id)}>{t('timeline')}</button>
            </li>
          ))}
        </ul>
        <div class="bulk" role="group" aria-label={t('selected')}>
          <label>{t('moveTo')} <input value={target.queue} onInput={field('queue')} /></label>
          <button disabled={!picked.length || !target.queue} onClick={() => act('move')}>{t('move')}</button>
          <label>{t('assignTo')} <input value={target.agent} onInput={field('agent')} /></label>
          <button disabled={!picked.length || !target.agent} onClick={() => act('assign')}>{t('assign')}</button>
          <label>{t('priority')} <input type="number" value={target.priority} onInput={field('priority')} /></label>
          <button disabled={!picked.length || target.priority === ''} onClick={() => act('priority')}>{t('setPriority')}</button>
          <label>{t('stopReason')} <input value={target.reason} onInput={field('reason')} /></label>
          <button disabled={!picked.length || !target.reason.trim()} onClick={() => act('stop')}>{t('stop')}</button>
        </div>
        <ul data-testid="answers" aria-live="polite">
          {answers.map((a) => (
            <li key={a.id} class={a.status >= 300 ? 'error' : ''}>
              {a.id.slice(0, 8)}: {a.status < 300 ? t('done') : a.detail}
              {' '}<button class="link" onClick={() => setReplayed(a.id)}>{t('timeline')}</button>
            </li>
          ))}
        </ul>
        <form class="lookup" onSubmit={(e) => { e.preventDefault(); if (lookup.trim()) setReplayed(lookup.trim()); }}>
          <label>{t('interaction')} <input value={lookup} onInput={(e) => setLookup(e.currentTarget.value)} /></label>
          <button>{t('timeline')}</button>
        </form>
        {replayed && <Timeline id={replayed} onError={onError} onClose={() => setReplayed(null)} />}
      </section>
    </div>
  );
}
