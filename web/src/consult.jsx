// Working together on one interaction: its internal notes (a consultation's question, the
// colleague's contributions, transfer notes, reasons it was handed back), asking a colleague,
// answering as the colleague consulted, and correcting the interaction's category.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';

// The notes, read again whenever the desk hears of a change (`version`).
export function Notes({ id, version, onError }) {
  const [notes, setNotes] = useState([]);
  useEffect(() => {
    let live = true;
    api('GET', `/interactions/${id}/notes`).then((n) => live && setNotes(n.notes)).catch((err) => live && onError(err));
    return () => { live = false; };
  }, [id, version]);
  if (notes.length === 0) return null;
  return (
    <section class="notes" aria-label={t('notes')} data-testid="notes">
      <h3>{t('notes')}</h3>
      <ol>
        {notes.map((n, k) => (
          <li key={k} class={n.kind}>
            <span class="meta">{new Date(n.at).toLocaleTimeString()} · {n.by}{n.to ? ` → ${n.to}` : ''} · {t(`note_${n.kind}`)}</span>
            {n.text && <p>{n.text}</p>}
          </li>
        ))}
      </ol>
    </section>
  );
}

// The owner asks a colleague, with a question.
export function Ask({ id, onError, onAsked }) {
  const [who, setWho] = useState('');
  const [question, setQuestion] = useState('');
  const ask = async () => {
    try {
      await api('POST', `/interactions/${id}/consult`, { agent: who.trim(), note: question.trim() || undefined });
      setWho(''); setQuestion('');
      onAsked();
    } catch (err) { onError(err); }
  };
  return (
    <div class="finish" role="group" aria-label={t('consult')}>
      <label>{t('consultWho')}<input value={who} onInput={(e) => setWho(e.currentTarget.value)} /></label>
      <label class="wide">{t('question')}<input value={question} onInput={(e) => setQuestion(e.currentTarget.value)} /></label>
      <button disabled={!who.trim()} onClick={ask}>{t('consult')}</button>
    </div>
  );
}

// The consulted colleague's part: contribute, then end it.
export function Contribute({ id, onError, onDone }) {
  const [text, setText] = useState('');
  const say = async () => {
    try {
      await api('POST', `/interactions/${id}/consult/contribution`, { text });
      setText('');
      onDone(false);
    } catch (err) { onError(err); }
  };
  const end = async () => {
    try {
      await api('POST', `/interactions/${id}/consult/end`, {});
      onDone(true);
    } catch (err) { onError(err); }
  };
  return (
    <div class="contribute" role="group" aria-label={t('consultation')}>
      <label class="reply">
        {t('yourAnswer')}
        <textarea rows={4} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <div class="actions">
        <button disabled={!text.trim()} onClick={say}>{t('contribute')}</button>
        <button onClick={end}>{t('endConsult')}</button>
      </div>
    </div>
  );
}

// A correction of the category, recorded under the agent's name (the classifier learns from it).
// `item`: the interaction as the desk's lists hold it (its category and the candidates).
export function Recategorise({ id, item, onError }) {
  const [view, setView] = useState(item);
  const [category, setCategory] = useState(item.category || '');
  const [said, setSaid] = useState('');
  const save = async () => {
    try {
      const v = await api('POST', `/interactions/${id}/categorise`, { category: category.trim() });
      setView(v);
      setSaid(`${t('category')}: ${v.category}`);
    } catch (err) { onError(err); }
  };
  const known = [...new Set([view.category, ...(view.categories || []).map((c) => c.category)].filter(Boolean))];
  return (
    <div class="finish" role="group" aria-label={t('category')}>
      <label>
        {t('category')}
        <input list={`categories-${id}`} value={category} onInput={(e) => setCategory(e.currentTarget.value)} />
      </label>
      <datalist id={`categories-${id}`}>{known.map((c) => <option key={c} value={c} />)}</datalist>
      <button disabled={!category.trim() || category.trim() === view.category} onClick={save}>{t('recategorise')}</button>
      <span role="status">{said}</span>
    </div>
  );
}
