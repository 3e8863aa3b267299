// The reviewer's view: pending reviews (a supervisor sees all), the reply beside the customer's
// message, and the four answers: approve, return with a comment, edit and approve (the change
// shown as a line diff before it goes), reassign.
import { useEffect, useState, useCallback } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';

// The change from `a` to `b`, line by line (a longest common subsequence).
export function lineDiff(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) { out.push([' ', x[i]]); i++; j++; }
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push(['-', x[i++]]);
    else out.push(['+', y[j++]]);
  }
  while (i < n) out.push(['-', x[i++]]);
  while (j < m) out.push(['+', y[j++]]);
  return out;
}

export function Reviews({ version, onError }) {
  const [reviews, setReviews] = useState([]);
  const [open, setOpen] = useState(null);
  const [comment, setComment] = useState('');
  const [edited, setEdited] = useState(null);
  const [to, setTo] = useState('');
  const load = useCallback(() => {
    api('GET', '/reviews').then((r) => setReviews(r.reviews), onError);
  }, [onError]);
  useEffect(load, [version, load]);
  const current = reviews.find((r) => r.reply_id === open) || null;
  useEffect(() => { setComment(''); setEdited(null); setTo(''); }, [open]);
  const answer = async (action, body) => {
    try {
      await api('POST', `/reviews/${open}/${action}`, body);
      setOpen(null);
      load();
    } catch (err) { onError(err); }
  };
  return (
    <div class="reviews">
      <nav aria-label={t('reviews')}>
        <h2>{t('reviews')}</h2>
        <ul data-testid="reviews">
          {reviews.length === 0 && <li class="empty">{t('nothing')}</li>}
          {reviews.map((r) => (
            <li key={r.reply_id}>
              <button class="open" aria-current={open === r.reply_id} onClick={() => setOpen(r.reply_id)}>
                {r.subject} <span class="meta">({r.author})</span>
              </button>
            </li>
          ))}
        </ul>
      </nav>
      {current ? (
        <section class="reader" aria-label={t('review')}>
          <h2>{current.subject}</h2>
          <p class="meta">
            {t('why')}: {(current.review && current.review.reasons || []).map((x) => x.detail).join('; ')}
          </p>
          <div class="side">
            <div>
              <h3>{t('customer')}</h3>
              <pre class="body" data-testid="customer">{current.customer && current.customer.text}</pre>
            </div>
            <div>
              <h3>{t('reply')} ({current.author})</h3>
              {edited === null ? (
                <pre class="body" data-testid="reply">{current.text}</pre>
              ) : (
                <textarea aria-label={t('edit')} rows={8} value={edited}
                  onInput={(e) => setEdited(e.currentTarget.value)} />
              )}
            </div>
          </div>
          {edited !== null && (
            <pre class="diff" aria-label={t('change')}>
              {lineDiff(current.text || '', edited).map(([mark, line], k) => (
                <span key={k} class={mark === '+' ? 'add' : mark === '-' ? 'del' : ''}>{`${mark} ${line}\n`}</span>
              ))}
            </pre>
          )}
          <div class="actions">
            {edited === null ? (
              <>
                <button onClick={() => answer('approve', {})}>{t('approve')}</button>
                <button onClick={() => setEdited(current.text || '')}>{t('edit')}</button>
              </>
            ) : (
              <button onClick={() => answer('edit', { text: edited })}>{t('editApprove')}</button>
            )}
          </div>
          <label class="reply">
            {t('comment')}
            <textarea rows={3} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          </label>
          <div class="actions">
            <button disabled={!comment.trim()} onClick={() => answer('return', { comment })}>{t('returnIt')}</button>
            <label>
              {t('reassignTo')}
              <input value={to} onInput={(e) => setTo(e.currentTarget.value)} />
            </label>
            <button disabled={!to.trim()} onClick={() => answer('reassign', { reviewer: to.trim() })}>{t('reassign')}</button>
          </div>
        </section>
      ) : (
        <section class="reader"><p>{t('chooseReview')}</p></section>
      )}
    </div>
  );
}
