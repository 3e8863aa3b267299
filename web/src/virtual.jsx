// A long list that stays fast: only the rows in view (and a few either side) are in the page,
// placed in a scrolling box as tall as the whole list, so 1,000 offers cost what 30 do. Rows
// grow with the page's type (a wall screen's larger font); the row of `current` is scrolled
// into view when it changes (the keyboard's next and previous).
import { useEffect, useRef, useState } from 'preact/hooks';

export function VirtualList({ items, row: base = 40, rows = 12, testid, label, empty, render, current }) {
  const [top, setTop] = useState(0);
  const box = useRef(null);
  const scale = parseFloat(getComputedStyle(document.documentElement).fontSize) / 16 || 1;
  const row = Math.round(base * scale);
  const at = current ? items.findIndex((i) => i.id === current) : -1;
  useEffect(() => {
    const el = box.current;
    if (!el || at < 0) return;
    if (at * row < el.scrollTop) el.scrollTop = at * row;
    else if ((at + 1) * row > el.scrollTop + el.clientHeight) el.scrollTop = (at + 1) * row - el.clientHeight;
  }, [at, row]);
  if (items.length === 0) {
    return <ul data-testid={testid} aria-label={label}><li class="empty">{empty}</li></ul>;
  }
  const height = Math.min(items.length, rows) * row;
  const first = Math.max(0, Math.floor(top / row) - 4);
  const last = Math.min(items.length, Math.ceil((top + height) / row) + 4);
  return (
    <div class="virtual" ref={box} style={{ height: `${height}px` }} onScroll={(e) => setTop(e.currentTarget.scrollTop)}>
      <ul data-testid={testid} aria-label={label} style={{ height: `${items.length * row}px` }}>
        {items.slice(first, last).map((item, k) => (
          <li key={item.id} aria-setsize={items.length} aria-posinset={first + k + 1}
            style={{ top: `${(first + k) * row}px`, height: `${row}px` }}>
            {render(item)}
          </li>
        ))}
      </ul>
    </div>
  );
}
