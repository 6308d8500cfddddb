// ui: small helpers to build the DOM without innerHTML (so no text a user
// wrote is ever read as markup), and the pieces every screen shares.

// h('button', {class: 'x', onclick: f}, 'text', child…): an element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// A round avatar: the image when there is one, else the initials.
export function avatar(name, url, size = 32, kind = 'user') {
  const initials = (name || '?').split(/\s+/).map(w => w[0] || '').join('').slice(0, 2).toUpperCase();
  if (url && /^(https?:|data:image\/)/.test(url))
    return h('img', {class: `avatar ${kind}`, src: url, alt: '', width: size, height: size});
  const el = h('span', {class: `avatar ${kind}`, 'aria-hidden': 'true'}, initials);
  el.style.setProperty('--size', `${size}px`); // through the CSSOM: the CSP allows no inline style
  return el;
}

export function time(ms) {
  const d = new Date(ms);
  const now = new Date();
  const same = d.toDateString() === now.toDateString();
  return same ? d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'})
              : d.toLocaleDateString([], {month: 'short', day: 'numeric'}) + ' ' +
                d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
}

// A message of the content parts (text and mentions) with mention badges.
export function contentParts(parts, content) {
  if (!Array.isArray(parts)) return [content || ''];
  return parts.map(p => p.type === 'mention'
    ? h('a', {class: `mention ${p.kind}`, href: p.kind === 'agent' ? `#/agents/${p.id}` : `#/users/${p.id}`,
              title: `${p.kind === 'agent' ? 'Agent' : 'Person'}: ${p.name}`},
        avatar(p.name, null, 18, p.kind), h('span', {}, '@' + p.name))
    : p.text);
}

// A status line under a form: errors in red, announced to screen readers.
export function status() {
  const el = h('p', {class: 'status', role: 'status', 'aria-live': 'polite'});
  el.show = (msg, bad) => { el.textContent = msg || ''; el.classList.toggle('bad', !!bad); };
  return el;
}

export function field(label, input, hint) {
  const id = input.id || ('f' + Math.random().toString(36).slice(2));
  input.id = id;
  return h('div', {class: 'field'}, h('label', {for: id}, label), input,
           hint ? h('small', {class: 'hint'}, hint) : null);
}
