// The auditor's view: the log searched by principal, type, kind, interaction and time range;
// an event's envelope and hashes; the found events exported as NDJSON (as `postroom audit
// export` writes them) and the whole chain verified, the result shown.
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';

export function Audit({ onError }) {
  const [filter, setFilter] = useState({ principal: '', type: '', kind: '', interaction: '', from: '', to: '' });
  const [events, setEvents] = useState([]);
  const [next, setNext] = useState(null);
  const [open, setOpen] = useState(null);
  const [verified, setVerified] = useState(null);
  const query = (after) => {
    const q = new URLSearchParams({ limit: '200', after: String(after || 0) });
    for (const [k, v] of Object.entries(filter)) {
      if (!v.trim()) continue;
      // datetime-local gives a local time: send it as RFC 3339.
      q.set(k, k === 'from' || k === 'to' ? new Date(v).toISOString() : v.trim());
    }
    return q.toString();
  };
  const search = async (e, more) => {
    if (e) e.preventDefault();
    try {
      const page = await api('GET', `/audit/events?${query(more ? next : 0)}`);
      setEvents(more ? [...events, ...page.events] : page.events);
      setNext(page.next_after);
      if (!more) setOpen(null);
    } catch (err) { onError(err); }
  };
  const exportFound = () => {
    const text = events.map((ev) => JSON.stringify(ev)).join('\n') + '\n';
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
    a.download = 'postroom-audit.ndjson';
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const verify = async () => {
    try { setVerified(await api('GET', '/audit/verify')); } catch (err) { onError(err); }
  };
  const field = (key, label, type = 'text') => (
    <label>
      {label}
      <input type={type} value={filter[key]} onInput={(e) => setFilter({ ...filter, [key]: e.currentTarget.value })} />
    </label>
  );
  const shown = events.find((ev) => ev.position === open) || null;
  return (
    <div class="audit">
      <section aria-label={t('search')}>
        <form class="filters" onSubmit={(e) => search(e, false)}>
          {field('principal', t('principal'))}
          {field('type', t('eventType'))}
          <label>
            {t('kind')}
            <select value={filter.kind} onChange={(e) => setFilter({ ...filter, kind: e.currentTarget.value })}>
              <option value="">—</option>
              <option value="intervention">{t('interventions')}</option>
              <option value="review">{t('reviews')}</option>
            </select>
          </label>
          {field('interaction', t('interaction'))}
          {field('from', t('fromTime'), 'datetime-local')}
          {field('to', t('toTime'), 'datetime-local')}
          <button type="submit">{t('search')}</button>
        </form>
        <div class="actions">
          <span data-testid="found">{events.length} {t('found')}</span>
          {next !== null && <button onClick={() => search(null, true)}>{t('more')}</button>}
          <button disabled={!events.length} onClick={exportFound}>{t('export')}</button>
          <button onClick={verify}>{t('verify')}</button>
          {verified && (
            <span role="status" data-testid="verified" class={verified.ok ? '' : 'error'}>
              {verified.ok
                ? `${t('chainOk')}: ${verified.events} ${t('eventsLinks')} ${verified.links}`
                : `${t('chainBroken')}: ${verified.failure}`}
            </span>
          )}
        </div>
        <table data-testid="events">
          <thead><tr><th>#</th><th>{t('when')}</th><th>{t('principal')}</th><th>{t('eventType')}</th><th>{t('stream')}</th></tr></thead>
          <tbody>
            {events.map((ev) => (
              <tr key={ev.position} aria-selected={open === ev.position}>
                <td><button class="open" onClick={() => setOpen(ev.position)}>{ev.position}</button></td>
                <td>{ev.recorded_at}</td>
                <td>{ev.principal}</td>
                <td>{ev.type}</td>
                <td>{ev.stream}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {shown && (
        <section class="envelope" aria-label={t('envelope')}>
          <h2>{t('envelope')} #{shown.position}</h2>
          <dl>
            <dt>{t('hash')}</dt><dd data-testid="hash"><code>{shown.hash}</code></dd>
            <dt>{t('prevHash')}</dt><dd><code>{shown.prev_hash}</code></dd>
          </dl>
          <pre class="body">{JSON.stringify(shown, null, 2)}</pre>
        </section>
      )}
    </div>
  );
}
