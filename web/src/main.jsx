// The postroom web desktop: sign-in, then the agent's desktop (state, offers arriving live over
// the event stream, the work assigned, a reading pane, a reply). Every refusal and every lost
// connection is said in words, and the desktop recovers from it.
import { render } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState, useCallback } from 'preact/hooks';
import { api, setCsrf, ApiError } from './api.js';
import { t } from './i18n.js';
import { Reviews } from './reviews.jsx';
import { Dashboard } from './dashboard.jsx';
import { Audit } from './audit.jsx';
import { Message, Thread } from './message.jsx';
import { VirtualList } from './virtual.jsx';
import { Ask, Contribute, Notes, Recategorise } from './consult.jsx';
import './style.css';

function SignIn({ onSignedIn, notice }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(notice || '');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    try {
      const s = await api('POST', '/auth/signin', { name, password });
      setCsrf(s.csrf_token);
      onSignedIn(s);
    } catch (err) {
      setError(err.status === 401 ? t('wrong') : err.status === 429 ? t('tooMany') : err.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>postroom</h1>
      <form onSubmit={submit} aria-describedby="signin-error">
        <label>
          {t('name')}
          <input name="name" autocomplete="username" value={name} required
            onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          {t('password')}
          <input name="password" type="password" autocomplete="current-password" value={password} required
            onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy}>{t('signIn')}</button>
        <p id="signin-error" role="alert" class="error">{error}</p>
      </form>
    </main>
  );
}

function Invitation({ token, onDone }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    try {
      await api('POST', '/auth/invitation', { token, password });
      history.replaceState(null, '', '/');
      onDone(t('passwordSet'));
    } catch (err) {
      setError(err.message);
    }
  };
  return (
    <main class="signin">
      <h1>{t('setPassword')}</h1>
      <form onSubmit={submit}>
        <label>
          {t('password')}
          <input name="password" type="password" autocomplete="new-password" minLength={12} required
            value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        <p class="hint">{t('passwordRule')}</p>
        <button type="submit">{t('setPassword')}</button>
        <p role="alert" class="error">{error}</p>
      </form>
    </main>
  );
}

function since(iso, now) {
  const secs = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const m = Math.floor(secs / 60);
  return m > 0 ? `${m} min ${secs % 60} s` : `${secs} s`;
}

function Presence({ me, now, onChange, onError }) {
  const state = me && me.state;
  const set = async (body) => {
    try {
      await api('POST', '/me/state', body);
      onChange();
    } catch (err) {
      onError(err);
    }
  };
  // Not ready asks why first, in place (common reasons offered, any may be typed).
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const notReady = (e) => {
    e.preventDefault();
    if (!reason.trim()) return;
    setAsking(false);
    set({ state: 'not_ready', reason: reason.trim() });
  };
  return (
    <div class="presence" role="group" aria-label={t('state')}>
      <button aria-pressed={state === 'ready'} onClick={() => set({ state: 'ready' })}>{t('ready')}</button>
      {asking ? (
        <form class="why" onSubmit={notReady}>
          <input aria-label={t('notReadyWhy')} list="not-ready-reasons" value={reason} autoFocus
            onInput={(e) => setReason(e.currentTarget.value)} onKeyDown={(e) => e.key === 'Escape' && setAsking(false)} />
          <datalist id="not-ready-reasons">{t('notReadyReasons').split('|').map((r) => <option key={r} value={r} />)}</datalist>
          <button disabled={!reason.trim()}>{t('notReady')}</button>
        </form>
      ) : (
        <button aria-pressed={state === 'not_ready'} onClick={() => setAsking(true)}>
          {t('notReady')}{state === 'not_ready' && me.reason ? ` (${me.reason})` : ''}
        </button>
      )}
      <button aria-pressed={state === 'logged_out'} onClick={() => set({ state: 'logged_out' })}>{t('loggedOut')}</button>
      {me && me.since && <span class="since" data-testid="time-in-state">{t('inState')} {since(me.since, now)}</span>}
    </div>
  );
}

// Standard responses for the reply: those suggested for the interaction's categories, and a
// search of all; one chosen is rendered by the server for this customer (field codes filled).
function Responses({ id, onUse, onError }) {
  const [suggested, setSuggested] = useState([]);
  const [q, setQ] = useState('');
  const [found, setFound] = useState(null);
  useEffect(() => {
    api('GET', `/interactions/${id}/suggested-responses`).then(setSuggested, () => setSuggested([]));
  }, [id]);
  const search = async (e) => {
    e.preventDefault();
    try {
      const params = new URLSearchParams({ usage: 'suggestion' });
      if (q.trim()) params.set('q', q.trim());
      setFound(await api('GET', `/standard-responses?${params}`));
    } catch (err) { onError(err); }
  };
  const list = (rs) => (
    <ul class="responses">
      {rs.filter((r) => r.usable).map((r) => (
        <li key={r.id}>
          <span>{r.name}</span>
          <button onClick={() => onUse(r)}>{t('use')}</button>
        </li>
      ))}
    </ul>
  );
  return (
    <details class="standard" open={suggested.length > 0}>
      <summary>{t('responses')}</summary>
      {suggested.length > 0 && <><h3>{t('suggested')}</h3>{list(suggested)}</>}
      <form onSubmit={search} role="search">
        <label>
          {t('searchResponses')}
          <input value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        </label>
        <button type="submit">{t('search')}</button>
      </form>
      {found && (found.length ? list(found) : <p class="empty">{t('nothing')}</p>)}
    </details>
  );
}

// Finishing the work: done with a disposition, back to the queue with a reason, or transferred
// to a colleague or a queue with a note.
function Finish({ id, codes, onError, onFinished }) {
  const [picked, setCode] = useState('');
  const code = picked || codes[0] || '';
  const [reason, setReason] = useState('');
  const [to, setTo] = useState('');
  const [toKind, setToKind] = useState('agent');
  const post = async (action, body) => {
    try {
      await api('POST', `/interactions/${id}/${action}`, body);
      onFinished();
    } catch (err) { onError(err); }
  };
  return (
    <div class="finish" role="group" aria-label={t('finish')}>
      <label>
        {t('disposition')}
        <select aria-label={t('disposition')} value={code} onChange={(e) => setCode(e.currentTarget.value)}>
          {codes.map((c) => <option key={c} value={c}>{c}</option>)}
        </select>
      </label>
      <button disabled={!code} onClick={() => post('done', { disposition: code })}>{t('markDone')}</button>
      <label>
        {t('reason')}
        <input aria-label={t('reason')} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      <button disabled={!reason.trim()} onClick={() => post('return', { reason })}>{t('giveBack')}</button>
      <select aria-label={t('transferKind')} value={toKind} onChange={(e) => setToKind(e.currentTarget.value)}>
        <option value="agent">{t('transferTo')}</option>
        <option value="queue">{t('queue')}</option>
      </select>
      <input aria-label={toKind === 'agent' ? t('transferTo') : t('queue')} value={to} onInput={(e) => setTo(e.currentTarget.value)} />
      <button disabled={!to.trim()} onClick={() => post('transfer', { [toKind]: to.trim(), note: reason.trim() || undefined })}>
        {t('transfer')}
      </button>
    </div>
  );
}

// One interaction, read and worked: a Reader is made for each (keyed by its id), so nothing
// typed or loaded for one is ever shown with another. `item` is the interaction as the work
// lists hold it; `codes` the dispositions; `version` counts the events heard about it.
function Reader({ id, item, codes, returned, version, consulted, onError, onWorked, onFinished }) {
  const [content, setContent] = useState(null);
  const [text, setText] = useState('');
  const [note, setNote] = useState('');
  const [draft, setDraft] = useState(null);
  // Notes written here (the event stream tells of others' only).
  const [noted, setNoted] = useState(0);
  useEffect(() => {
    let live = true;
    api('GET', `/interactions/${id}/content`)
      .then((c) => live && setContent(c))
      .catch((err) => live && onError(err));
    return () => { live = false; };
  }, [id]);
  // The draft, and again when a reviewer returns it (with their comment).
  useEffect(() => {
    let live = true;
    api('GET', `/interactions/${id}/reply`)
      .then((d) => { if (live && d) { setDraft(d); setText(d.text || ''); } })
      .catch(() => live && setDraft(null));
    return () => { live = false; };
  }, [id, returned]);
  const save = async () => {
    try {
      await api('PUT', `/interactions/${id}/reply`, { text });
      setNote(t('saved'));
    } catch (err) { onError(err); }
  };
  const use = async (response) => {
    try {
      const d = await api('PUT', `/interactions/${id}/reply`, { standard_response_id: response.id });
      setDraft(d);
      setText(d.text || '');
      setNote(`${t('inserted')}: ${response.name}`);
    } catch (err) { onError(err); }
  };
  const release = async () => {
    try {
      await api('PUT', `/interactions/${id}/reply`, { text });
      const r = await api('POST', `/interactions/${id}/release`);
      setDraft(r);
      setNote(r.review && r.review.required ? t('waiting') : t('released'));
      onWorked();
    } catch (err) { onError(err); }
  };
  if (!content) return <section class="reader" aria-busy="true" />;
  return (
    <section class="reader" aria-label={t('readingPane')}>
      <h2>{content.subject}</h2>
      <p class="meta">{t('from')}: {content.from_name ? `${content.from_name} <${content.from}>` : content.from}</p>
      <Message id={id} content={content} />
      <Thread id={id} onError={onError} />
      <Notes id={id} version={`${version}.${noted}`} onError={onError} />
      {consulted ? <Contribute id={id} onError={onError} onDone={(ended) => { setNoted((n) => n + 1); if (ended) onFinished(); else onWorked(); }} /> : <>
      {draft && draft.status === 'draft' && draft.comment && (
        <p class="returned" role="note" data-testid="returned">{t('returned')}: {draft.comment}</p>
      )}
      <Responses id={id} onUse={use} onError={onError} />
      <label class="reply">
        {t('reply')}
        <textarea rows={8} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <div class="actions">
        <button onClick={save}>{t('save')}</button>
        <button onClick={release} disabled={!text.trim()}>{t('release')}</button>
        <span role="status">{note}</span>
      </div>
      <Finish id={id} codes={codes} onError={onError} onFinished={onFinished} />
      <Ask id={id} onError={onError} onAsked={() => { setNoted((n) => n + 1); onWorked(); }} />
      {item && <Recategorise id={id} item={item} onError={onError} />}
      </>}
    </section>
  );
}

function Desk({ session, onSignedOut, onExpired }) {
  const [me, setMe] = useState(null);
  const [work, setWork] = useState({ offered: [], assigned: [], consulting: [] });
  const [open, setOpen] = useState(null);
  const [error, setError] = useState('');
  const [lost, setLost] = useState(false);
  const [now, setNow] = useState(Date.now());
  const [help, setHelp] = useState(false);
  const supervising = session.role === 'supervisor' || session.role === 'admin';
  const auditing = session.role === 'auditor';
  const [tab, setTab] = useState(auditing ? 'audit' : supervising ? 'dashboard' : 'desk');
  const [heardAny, setHeardAny] = useState(0);
  // Events heard, by the interaction they are about (what an open reading pane reads again).
  const [heardOn, setHeardOn] = useState({});
  // The desktop's settings (the disposition codes), read once.
  const [codes, setCodes] = useState([]);
  const [returned, setReturned] = useState(0);

  const fail = useCallback((err) => {
    if (err instanceof ApiError && err.status === 401) onExpired();
    else setError(err.message);
  }, [onExpired]);

  const refresh = useCallback(async () => {
    // An auditor has no desk: only the log.
    if (session.role === 'auditor') return;
    try {
      const [mine, agent] = await Promise.all([
        api('GET', '/me/interactions'),
        // A supervisor who is no agent has no state (their desk is the reviews).
        api('GET', '/me/state').catch((e) => { if (e.status === 404) return null; throw e; }),
      ]);
      setWork(mine);
      setMe(agent);
    } catch (err) { fail(err); }
  }, [session.name, fail]);

  useEffect(() => { refresh(); }, [refresh]);
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);
  // Offers and assignments arrive on the event stream (an agent's); a lost stream reconnects on
  // its own.
  const isAgent = !!me;
  useEffect(() => {
    if (isAgent) api('GET', '/desktop').then((d) => setCodes(d.dispositions), fail);
  }, [isAgent]);
  useEffect(() => {
    if (!isAgent) return undefined;
    const events = new EventSource('/api/v1/me/events', { withCredentials: true });
    const heard = (e) => {
      setLost(false);
      setHeardAny((n) => n + 1);
      let about = null;
      try { about = JSON.parse(e.data).interaction_id; } catch { /* an event without one */ }
      if (about) setHeardOn((m) => ({ ...m, [about]: (m[about] || 0) + 1 }));
      if (e.type === 'returned_for_revision') setReturned((n) => n + 1);
      refresh();
    };
    for (const kind of ['offer', 'offer_withdrawn', 'offer_expired', 'offer_rejected', 'assigned',
      'consultation', 'consultation_ended', 'contribution', 'returned_for_revision', 'approved',
      'review_assigned', 'review_reassigned', 'breached']) {
      events.addEventListener(kind, heard);
    }
    events.onopen = () => setLost(false);
    events.onerror = () => setLost(true);
    return () => events.close();
  }, [refresh, isAgent]);

  const act = async (id, action) => {
    try {
      await api('POST', `/interactions/${id}/${action}`, {});
      if (action === 'accept') setOpen(id);
      refresh();
    } catch (err) { fail(err); }
  };
  const signOut = async () => {
    // An agent signing out of the desktop is logged out for routing too.
    if (me) {
      try { await api('POST', '/me/state', { state: 'logged_out' }); } catch { /* signing out anyway */ }
    }
    try { await api('POST', '/auth/signout'); } catch { /* the session may be gone already */ }
    setCsrf(null);
    onSignedOut();
  };
  // The shortcuts: listening from the moment the desk is on the screen (a layout effect runs
  // before the first paint), reading the desk as it is when the key comes.
  const current = useRef({});
  current.current = { work, me, refresh, fail, act, tab, help };
  useLayoutEffect(() => {
    const key = (e) => {
      const { work: w, me: agent, refresh: again, fail: failed, act: take, tab: shown, help: helping } = current.current;
      // Plain keys only, once per press, never while typing (Ctrl+X cuts, it does not reject).
      if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || e.isComposing) return;
      if (e.target.closest('input, textarea, select, [contenteditable]')) return;
      if (e.key === 'Escape') setHelp(false);
      if (e.key === '?') setHelp((h) => !h);
      // The rest act on the desk, with the shortcuts dialog closed.
      if (shown !== 'desk' || helping) return;
      if (e.key === 'a' && agent && w.offered[0]) take(w.offered[0].id, 'accept');
      if (e.key === 'x' && agent && w.offered[0]) take(w.offered[0].id, 'reject');
      if ((e.key === 'j' || e.key === 'k') && w.assigned.length) {
        // The next (j) or previous (k) interaction of my work.
        setOpen((o) => {
          const at = w.assigned.findIndex((i) => i.id === o);
          const to = at < 0 ? 0 : Math.min(w.assigned.length - 1, Math.max(0, at + (e.key === 'j' ? 1 : -1)));
          return w.assigned[to].id;
        });
      }
      if (e.key === 'r' && agent) api('POST', '/me/state', { state: 'ready' }).then(again, failed);
    };
    addEventListener('keydown', key);
    return () => removeEventListener('keydown', key);
  }, []);

  const deadline = (item) => {
    if (!item.offer_deadline) return '';
    const left = Math.max(0, Math.round((Date.parse(item.offer_deadline) - now) / 1000));
    return `${left}${t('left')}`;
  };
  return (
    <div class="desk">
      <header>
        <strong>postroom</strong>
        <span data-testid="who">{session.name}</span>
        <div role="tablist" class="tabs">
          {supervising && (
            <button role="tab" aria-selected={tab === 'dashboard'} onClick={() => setTab('dashboard')}>{t('dashboard')}</button>
          )}
          {!auditing && (
            <button role="tab" aria-selected={tab === 'desk'} onClick={() => setTab('desk')}>{t('desk')}</button>
          )}
          {(auditing || session.role === 'admin') && (
            <button role="tab" aria-selected={tab === 'audit'} onClick={() => setTab('audit')}>{t('audit')}</button>
          )}
          {((me && me.reviewer) || session.role === 'supervisor' || session.role === 'admin') && (
            <button role="tab" aria-selected={tab === 'reviews'} onClick={() => setTab('reviews')}>{t('reviews')}</button>
          )}
        </div>
        {me && <Presence me={me} now={now} onChange={refresh} onError={fail} />}
        <button onClick={signOut}>{t('signOut')}</button>
      </header>
      {lost && <p class="banner" role="status">{t('lost')}</p>}
      {error && (
        <p class="banner error" role="alert">
          {error} <button onClick={() => setError('')}>{t('close')}</button>
        </p>
      )}
      {tab === 'audit' ? <Audit onError={fail} /> : tab === 'dashboard' ? <Dashboard onError={fail} /> : tab === 'reviews' ? <Reviews version={heardAny} onError={fail} /> : <>
      <nav aria-label={t('offers')}>
        <h2>{t('offers')} <span class="count">{work.offered.length || ''}</span></h2>
        <VirtualList items={work.offered} testid="offers" label={t('offers')} empty={t('nothing')} render={(i) => (
          <>
            <span class="subject" title={i.subject}>{i.subject}</span>
            <span class="deadline">{deadline(i)}</span>
            <button onClick={() => act(i.id, 'accept')}>{t('accept')}</button>
            <button onClick={() => act(i.id, 'reject')}>{t('reject')}</button>
          </>
        )} />
        <h2>{t('assigned')} <span class="count">{work.assigned.length || ''}</span></h2>
        <VirtualList items={work.assigned} current={open} testid="assigned" label={t('assigned')} empty={t('nothing')} render={(i) => (
          <button class="open" title={i.subject} aria-current={open === i.id} onClick={() => setOpen(i.id)}>{i.subject}</button>
        )} />
        {work.consulting.length > 0 && <>
          <h2>{t('consulting')} <span class="count">{work.consulting.length}</span></h2>
          <VirtualList items={work.consulting} testid="consulting" label={t('consulting')} empty={t('nothing')} render={(i) => (
            <button class="open" title={i.subject} aria-current={open === i.id} onClick={() => setOpen(i.id)}>{i.subject}</button>
          )} />
        </>}
      </nav>
      {open ? <Reader key={open} id={open} returned={returned} version={heardOn[open] || 0} codes={codes}
        item={work.assigned.find((i) => i.id === open) || work.consulting.find((i) => i.id === open)}
        consulted={work.consulting.some((i) => i.id === open) && !work.assigned.some((i) => i.id === open)}
        onError={fail} onWorked={refresh} onFinished={() => { setOpen(null); refresh(); }} /> : <section class="reader"><p>{t('choose')}</p></section>}
      </>}
      {help && (
        <div role="dialog" aria-modal="true" aria-label={t('shortcuts')} class="help">
          <h2>{t('shortcuts')}</h2>
          <dl>
            <dt>a</dt><dd>{t('accept')}</dd>
            <dt>x</dt><dd>{t('reject')}</dd>
            <dt>j / k</dt><dd>{t('nextPrevious')}</dd>
            <dt>r</dt><dd>{t('ready')}</dd>
            <dt>?</dt><dd>{t('shortcuts')}</dd>
          </dl>
          <button onClick={() => setHelp(false)}>{t('close')}</button>
        </div>
      )}
    </div>
  );
}

function App() {
  const [session, setSession] = useState(undefined);
  const [notice, setNotice] = useState('');
  const invitation = new URLSearchParams(location.hash.slice(1)).get('invitation');
  useEffect(() => {
    api('GET', '/auth/session')
      .then((s) => { setCsrf(s.csrf_token); setSession(s.csrf_token ? s : null); })
      .catch(() => setSession(null));
  }, []);
  if (invitation && !session) return <Invitation token={invitation} onDone={(n) => { setNotice(n); location.hash = ''; }} />;
  if (session === undefined) return null;
  if (!session) return <SignIn notice={notice} onSignedIn={(s) => { setNotice(''); setSession(s); }} />;
  return (
    <Desk
      session={session}
      onSignedOut={() => setSession(null)}
      onExpired={() => { setNotice(t('ended')); setSession(null); }}
    />
  );
}

render(<App />, document.getElementById('app'));
