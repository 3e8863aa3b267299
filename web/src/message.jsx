// A message in the reading pane: the sanitised HTML in a sandboxed frame that runs no script and
// loads nothing remote (its own policy on top of the server's sanitising), else the plain text;
// the attachments to download; the rest of the thread, each message opened in place.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { t } from './i18n.js';

// The frame's document: nothing may load but inline raster images; links open outside. (The
// page's own policy applies inside too, so not even an inline style of ours would apply.)
const FRAME_POLICY = "default-src 'none'; img-src data:";

export function frameDocument(html) {
  return '<!doctype html><html><head><meta charset="utf-8">'
    + `<meta http-equiv="Content-Security-Policy" content="${FRAME_POLICY}">`
    + '<meta name="referrer" content="no-referrer"><base target="_blank"></head><body>'
    + html
    + '</body></html>';
}

// Inline images (`cid:`) the mail refers to: its raster image attachments, fetched with the
// session and handed to the frame as `data:` URLs (the frame itself loads nothing).
const RASTER = /^image\/(png|jpeg|gif|webp|bmp)$/i;
const MAX_INLINE = 5 * 1024 * 1024;

function dataUrl(blob) {
  return new Promise((done) => {
    const reader = new FileReader();
    reader.onload = () => done(typeof reader.result === 'string' ? reader.result : null);
    reader.onerror = () => done(null);
    reader.readAsDataURL(blob);
  });
}

function useInlineImages(id, content) {
  const [images, setImages] = useState({});
  useEffect(() => {
    let live = true;
    setImages({});
    const html = content.html_sanitized || '';
    const wanted = html.includes('cid:')
      ? content.attachments.filter((a) => a.content_id && a.size <= MAX_INLINE
        && RASTER.test(a.content_type.split(';')[0].trim()))
      : [];
    Promise.all(wanted.map(async (a) => {
      const r = await fetch(`/api/v1/interactions/${id}/attachments/${a.n}`, { credentials: 'same-origin' });
      if (!r.ok) return null;
      const url = await dataUrl(await r.blob());
      return url && RASTER.test(url.slice(5, url.indexOf(';'))) ? [a.content_id, url] : null;
    }))
      .then((pairs) => { if (live) setImages(Object.fromEntries(pairs.filter(Boolean))); })
      .catch(() => { /* the images stay missing; the message reads without them */ });
    return () => { live = false; };
  }, [id, content]);
  return images;
}

function withImages(html, images) {
  if (!Object.keys(images).length) return html;
  return html.replace(/src="cid:([^"]*)"/gi, (whole, cid) => {
    let key = cid;
    try { key = decodeURIComponent(cid); } catch { /* as written */ }
    const url = images[key] || images[cid];
    return url ? `src="${url}"` : whole;
  });
}

const size = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`);

export function Message({ id, content }) {
  const [plain, setPlain] = useState(false);
  const images = useInlineImages(id, content);
  const html = content.html_sanitized && !plain;
  return (
    <div class="message">
      {content.malformed && <p class="flag" role="note">{t('malformed')}</p>}
      {content.html_sanitized && (
        <button class="link" onClick={() => setPlain(!plain)}>{plain ? t('showHtml') : t('showText')}</button>
      )}
      {html ? (
        <iframe
          class="mail"
          title={t('message')}
          sandbox="allow-popups allow-popups-to-escape-sandbox"
          referrerpolicy="no-referrer"
          srcdoc={frameDocument(withImages(content.html_sanitized, images))}
        />
      ) : (
        <pre class="body">{content.text || ''}</pre>
      )}
      {content.attachments.length > 0 && (
        <ul class="attachments" aria-label={t('attachments')}>
          {content.attachments.map((a) => (
            <li key={a.n}>
              <a href={`/api/v1/interactions/${id}/attachments/${a.n}`} download={a.name}>{a.name}</a>
              <span class="meta"> {a.content_type}, {size(a.size)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// The thread's other messages, oldest first: customer mails and our replies.
export function Thread({ id, onError }) {
  const [items, setItems] = useState([]);
  const [open, setOpen] = useState(null);
  // The opened message's content, with whose it is (shown only under that one).
  const [content, setContent] = useState(null);
  useEffect(() => {
    let live = true;
    setOpen(null);
    api('GET', `/interactions/${id}/thread`)
      .then((th) => live && setItems(th.interactions.filter((i) => i.id !== id)))
      .catch(() => live && setItems([]));
    return () => { live = false; };
  }, [id]);
  useEffect(() => {
    if (!open) return undefined;
    let live = true;
    api('GET', `/interactions/${open}/content`)
      .then((c) => live && setContent({ id: open, c }))
      .catch((err) => live && onError(err));
    return () => { live = false; };
  }, [open]);
  if (items.length === 0) return null;
  return (
    <details class="thread" data-testid="thread">
      <summary>{t('thread')} ({items.length})</summary>
      <ol>
        {items.map((i) => (
          <li key={i.id}>
            <button class="link" aria-expanded={open === i.id} onClick={() => setOpen(open === i.id ? null : i.id)}>
              {i.kind === 'inbound' ? t('customerWrote') : t('weWrote')}: {i.subject}
            </button>
            <span class="meta"> {new Date(i.created_at).toLocaleString()} · {i.status}</span>
            {open === i.id && content && content.id === i.id && <Message id={i.id} content={content.c} />}
          </li>
        ))}
      </ol>
    </details>
  );
}
