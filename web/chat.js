// chat: the conversation list (live: a conversation with news moves to the
// top) and a conversation: messages with mention badges, tool-use notices,
// the thinking indicator and agents' replies streaming in, reactions and
// comments, participants, and the composer with @ autocomplete.
import {get, post, del, stream} from '/app/api.js';
import {h, clear, avatar, time, contentParts, status, field} from '/app/ui.js';

const names = new Map();  // id -> Promise<{name, image, kind}>

export function person(kind, id) {
  if (!id) return Promise.resolve({name: 'someone', kind});
  if (!names.has(id)) {
    const path = kind === 'agent' ? `/agents/${id}` : `/users/${id}`;
    names.set(id, get(path).then(d => ({name: d.name || d.email || id, image: d.avatarUrl || d.image, kind}))
                           .catch(() => ({name: kind === 'agent' ? 'an agent' : 'someone', kind})));
  }
  return names.get(id);
}

export async function directory() {
  const all = [];
  let cursor = null;
  for (let i = 0; i < 20; i++) {
    const page = await get('/agents?limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    all.push(...page.items);
    if (page.done || !page.cursor) break;
    cursor = page.cursor;
  }
  for (const a of all) names.set(a._id, Promise.resolve({name: a.name, image: a.avatarUrl, kind: 'agent'}));
  return all;
}

const REACTIONS = [['like', '👍'], ['love', '❤️'], ['laugh', '😂'], ['idea', '💡']];

export async function chatsView(ctx, convId) {
  const list = h('ul', {class: 'convs', 'aria-label': 'Conversations'});
  const pane = h('section', {class: 'chat', 'aria-label': 'Conversation'});
  const layout = h('div', {class: 'chats' + (convId ? ' open' : '')},
    h('aside', {class: 'side'},
      h('div', {class: 'side-head'}, h('h2', {}, 'Chats'),
        h('button', {type: 'button', class: 'primary', id: 'new-chat', onclick: () => newChat(ctx, pane)}, 'New')),
      list),
    pane);
  ctx.main.append(layout);
  let convs = [];
  const draw = () => {
    convs.sort((a, b) => (b.lastMessageTime || b.createdAt || 0) - (a.lastMessageTime || a.createdAt || 0));
    clear(list);
    for (const c of convs)
      list.append(h('li', {dataset: {id: c._id}},
        h('a', {href: `#/c/${c._id}`, class: c._id === convId ? 'active' : null,
                'aria-current': c._id === convId ? 'true' : null},
          h('span', {class: 'title'}, c.title || 'Untitled'),
          h('span', {class: 'when'}, time(c.lastMessageTime || c.createdAt)))));
    if (!convs.length) list.append(h('li', {class: 'empty'}, 'No conversations yet: start one.'));
  };
  const load = async () => {
    const page = await get('/conversations?limit=100');
    convs = page.items;
    draw();
  };
  await load();
  const me = stream('/me/stream', {
    conversation: c => {
      const i = convs.findIndex(x => x._id === c._id);
      if (i >= 0) convs[i] = c; else convs.push(c);
      draw();
    },
    membership: () => load(),
    reminder: r => toast(`Reminder: ${r.message}`),
  });
  let closeChat = null;
  ctx.onCleanup(() => { me.close(); if (closeChat) closeChat(); });
  if (convId) closeChat = await openChat(ctx, pane, convId);
  else pane.append(h('div', {class: 'placeholder'}, h('p', {}, 'Pick a conversation, or start a new one.')));
}

function toast(text) {
  const t = h('div', {class: 'toast', role: 'status'}, text);
  document.body.append(t);
  setTimeout(() => t.remove(), 8000);
}

async function newChat(ctx, pane) {
  clear(pane);
  const agents = await directory();
  const title = h('input', {type: 'text', name: 'title', required: true, maxlength: 200});
  const picks = h('fieldset', {class: 'picks'}, h('legend', {}, 'Agents in it'),
    agents.map(a => h('label', {class: 'pick'},
      h('input', {type: 'checkbox', value: a._id, checked: a.name === 'Director' ? true : null}),
      avatar(a.name, a.avatarUrl, 20, 'agent'), a.name)));
  const st = status();
  pane.append(h('form', {class: 'card', onsubmit: async ev => {
    ev.preventDefault();
    const chosen = [...picks.querySelectorAll('input:checked')].map(i => i.value);
    try {
      const c = await post('/conversations', {title: title.value.trim(), agents: chosen});
      location.hash = `#/c/${c._id}`;
    } catch (e) { st.show(e.message, true); }
  }}, h('h2', {}, 'New conversation'), field('Title', title), picks,
     h('button', {type: 'submit', class: 'primary'}, 'Start'), st));
  title.focus();
}

async function openChat(ctx, pane, convId) {
  const conv = await get(`/conversations/${convId}`);
  const parts = new Map();      // participant id -> row
  const messages = new Map();   // message id -> row element
  const heading = h('h2', {id: 'chat-title'}, conv.title || 'Untitled');
  const people = h('ul', {class: 'people', 'aria-label': 'Participants'});
  const log = h('ol', {class: 'messages', 'aria-label': 'Messages', 'aria-live': 'polite'});
  const thinking = h('div', {class: 'thinking', 'aria-live': 'polite'});
  const live = new Map();       // participant id -> streaming bubble
  const st = status();
  const box = h('textarea', {id: 'composer', rows: 2, placeholder: 'Write a message… (@ to mention)',
                             'aria-label': 'Message', 'aria-autocomplete': 'list', 'aria-controls': 'mentions'});
  const menu = h('ul', {id: 'mentions', class: 'mention-menu', role: 'listbox', hidden: true});
  const composer = h('form', {class: 'composer', onsubmit: ev => { ev.preventDefault(); send(); }},
    h('div', {class: 'compose-wrap'}, box, menu),
    h('button', {type: 'submit', class: 'primary'}, 'Send'));
  const addAgent = h('select', {'aria-label': 'Agent to add'});
  const addForm = h('form', {class: 'add', onsubmit: async ev => {
    ev.preventDefault();
    if (!addAgent.value) return;
    try {
      await post(`/conversations/${convId}/participants`, {kind: 'agent', agentId: addAgent.value});
      st.show('');
    } catch (e) { st.show(e.message, true); }
  }}, addAgent, h('button', {type: 'submit'}, 'Add agent'));
  const addEmail = h('input', {type: 'email', placeholder: 'their email', 'aria-label': 'Email of the person to add'});
  const addPerson = h('form', {class: 'add', onsubmit: async ev => {
    ev.preventDefault();
    if (!addEmail.value.trim()) return;
    try {
      await post(`/conversations/${convId}/participants`, {kind: 'user', email: addEmail.value.trim()});
      addEmail.value = '';
      st.show('');
    } catch (e) { st.show(e.message, true); }
  }}, addEmail, h('button', {type: 'submit'}, 'Add person'));
  clear(pane).append(
    h('header', {class: 'chat-head'}, h('a', {href: '#/chats', class: 'back', 'aria-label': 'Back to chats'}, '←'),
      heading, people, addForm, addPerson),
    log, thinking, st, composer);

  const agents = await directory();
  for (const a of agents) addAgent.append(h('option', {value: a._id}, a.name));

  const drawPeople = async () => {
    clear(people);
    for (const p of parts.values()) {
      if (p.isRemoved) continue;
      const who = await person(p.kind, p.kind === 'agent' ? p.agentId : p.userId);
      const self = p.kind === 'user' && p.userId === ctx.me._id;
      people.append(h('li', {class: `chip ${p.status === 'thinking' ? 'busy' : ''}`},
        avatar(who.name, who.image, 20, p.kind),
        p.kind === 'agent' ? h('a', {href: `#/agents/${p.agentId}`}, who.name) : h('span', {}, who.name + (self ? ' (you)' : '')),
        self ? null : h('button', {type: 'button', class: 'ghost x', 'aria-label': `Remove ${who.name}`, onclick: async () => {
          try { await del(`/conversations/${convId}/participants/${p._id}`); } catch (e) { st.show(e.message, true); }
        }}, '×')));
    }
    const busy = [];
    for (const p of parts.values())
      if (!p.isRemoved && p.status === 'thinking') busy.push((await person('agent', p.agentId)).name);
    thinking.textContent = busy.length ? `${busy.join(', ')} ${busy.length > 1 ? 'are' : 'is'} thinking…` : '';
    thinking.classList.toggle('on', busy.length > 0);
  };

  const authorOf = async m => {
    const p = parts.get(m.authorParticipantId);
    if (!p) return {name: m.kind === 'system' ? 'ONE' : 'someone', kind: 'user'};
    return person(p.kind, p.kind === 'agent' ? p.agentId : p.userId);
  };

  const reactBar = m => h('div', {class: 'reactions'},
    REACTIONS.map(([type, emoji]) => {
      const n = (m.reactionCounts || {})[type] || 0;
      return h('button', {type: 'button', class: 'react' + (n ? ' on' : ''), 'aria-label': `React ${type}`,
                          onclick: async () => {
        try {
          const r = await post(`/conversations/${convId}/messages/${m._id}/reactions`, {type});
          m.reactionCounts = r.reactionCounts;
          m.commentCount = r.commentCount;
          render(m);
        } catch (e) { st.show(e.message, true); }
      }}, emoji, n ? h('span', {class: 'n'}, n) : null);
    }),
    h('button', {type: 'button', class: 'react comments-toggle', 'aria-expanded': 'false',
                 onclick: ev => toggleComments(m, ev.currentTarget)}, '💬', h('span', {class: 'n'}, m.commentCount || 0)));

  const toggleComments = async (m, button) => {
    const li = messages.get(m._id);
    let box = li.querySelector('.comments');
    if (box) { box.remove(); button.setAttribute('aria-expanded', 'false'); return; }
    button.setAttribute('aria-expanded', 'true');
    box = h('div', {class: 'comments'});
    li.append(box);
    const page = await get(`/conversations/${convId}/messages/${m._id}/comments?limit=100`);
    const list = h('ul', {});
    for (const c of page.items) {
      const who = await authorOf({authorParticipantId: c.authorParticipantId});
      list.append(h('li', {}, h('b', {}, who.name + ': '), c.content));
    }
    const input = h('input', {type: 'text', 'aria-label': 'Comment', placeholder: 'Add a comment'});
    box.append(list, h('form', {onsubmit: async ev => {
      ev.preventDefault();
      if (!input.value.trim()) return;
      try {
        await post(`/conversations/${convId}/messages/${m._id}/comments`, {content: input.value.trim()});
        m.commentCount = (m.commentCount || 0) + 1;
        list.append(h('li', {}, h('b', {}, (ctx.me.name || ctx.me.email) + ': '), input.value.trim()));
        input.value = '';
        button.querySelector('.n').textContent = m.commentCount;
      } catch (e) { st.show(e.message, true); }
    }}, input, h('button', {type: 'submit'}, 'Comment')));
    input.focus();
  };

  const render = async m => {
    const who = await authorOf(m);
    const system = m.kind === 'system';
    const li = h('li', {class: 'msg' + (system ? ' system' : '') + (who.kind === 'agent' ? ' agent' : ''),
                        dataset: {id: m._id}},
      system ? null : avatar(who.name, who.image, 32, who.kind),
      h('div', {class: 'body'},
        h('div', {class: 'meta'}, h('b', {}, system ? (m.meta && m.meta.tool ? '🛠 ' : 'ℹ ') : who.name),
          h('time', {datetime: new Date(m._creationTime).toISOString()}, time(m._creationTime))),
        h('div', {class: 'text'}, contentParts(m.parts, m.content)),
        system ? null : reactBar(m)));
    const old = messages.get(m._id);
    if (old) {
      const open = old.querySelector('.comments');
      old.replaceWith(li);
      if (open) li.append(open);
    } else {
      log.append(li);
    }
    messages.set(m._id, li);
    li.message = m;
    if (who.kind === 'agent') {
      const p = parts.get(m.authorParticipantId);
      if (p && live.has(p._id)) { live.get(p._id).remove(); live.delete(p._id); }
    }
  };

  const scrolled = () => { log.scrollTop = log.scrollHeight; };
  const [prows, page] = await Promise.all([get(`/conversations/${convId}/participants?limit=200`),
                                           get(`/conversations/${convId}/messages?limit=50`)]);
  for (const p of prows.items) parts.set(p._id, p);
  await drawPeople();
  for (const m of page.items.slice().reverse()) await render(m);
  scrolled();

  const es = stream(`/conversations/${convId}/stream`, {
    message: async m => { await render(m); scrolled(); },
    'message.updated': async m => { await render(m); },
    participant: async p => { parts.set(p._id, p); await drawPeople(); },
    conversation: c => { heading.textContent = c.title || 'Untitled'; },
    partial: async d => {
      let bubble = live.get(d.participantId);
      if (!bubble || d.restart) {
        if (bubble) bubble.remove();
        const who = await person('agent', d.agentId);
        bubble = h('li', {class: 'msg agent streaming', 'aria-busy': 'true'}, avatar(who.name, who.image, 32, 'agent'),
          h('div', {class: 'body'}, h('div', {class: 'meta'}, h('b', {}, who.name), h('span', {class: 'typing'}, 'writing…')),
            h('div', {class: 'text'})));
        live.set(d.participantId, bubble);
        log.append(bubble);
      }
      if (d.text) bubble.querySelector('.text').append(d.text);
      scrolled();
    },
  });

  // --- the composer and its @ autocomplete ---
  let choices = [], pick = 0, at = -1;
  const candidates = () => {
    const seen = new Set(), out = [];
    for (const p of parts.values()) {
      if (p.isRemoved) continue;
      const id = p.kind === 'agent' ? p.agentId : p.userId;
      seen.add(id);
      out.push({kind: p.kind, id});
    }
    for (const a of agents) if (!seen.has(a._id)) out.push({kind: 'agent', id: a._id});
    return out;
  };
  const closeMenu = () => { menu.hidden = true; at = -1; box.removeAttribute('aria-activedescendant'); };
  const showMenu = async () => {
    const upto = box.value.slice(0, box.selectionStart);
    const m = /(^|\s)@([^\s@\[\]]*)$/.exec(upto);
    if (!m) return closeMenu();
    at = upto.length - m[2].length - 1;
    const q = m[2].toLowerCase();
    const all = await Promise.all(candidates().map(async c => ({...c, ...(await person(c.kind, c.id))})));
    choices = all.filter(c => c.name.toLowerCase().includes(q)).slice(0, 8);
    if (!choices.length) return closeMenu();
    pick = Math.min(pick, choices.length - 1);
    clear(menu);
    choices.forEach((c, i) => menu.append(h('li', {role: 'option', id: `mention-${i}`, 'aria-selected': i === pick ? 'true' : 'false',
      class: i === pick ? 'on' : null, onmousedown: ev => { ev.preventDefault(); choose(i); }},
      avatar(c.name, c.image, 20, c.kind), c.name, h('small', {}, c.kind === 'agent' ? ' agent' : ' person'))));
    menu.hidden = false;
    box.setAttribute('aria-activedescendant', `mention-${pick}`);
  };
  const choose = i => {
    const c = choices[i];
    const end = box.selectionStart;
    const token = `@[${c.name}](${c.kind}:${c.id}) `;
    box.value = box.value.slice(0, at) + token + box.value.slice(end);
    const caret = at + token.length;
    box.setSelectionRange(caret, caret);
    closeMenu();
    box.focus();
  };
  box.addEventListener('input', () => { pick = 0; showMenu(); });
  box.addEventListener('keydown', ev => {
    if (!menu.hidden) {
      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        ev.preventDefault();
        pick = (pick + (ev.key === 'ArrowDown' ? 1 : choices.length - 1)) % choices.length;
        showMenu();
        return;
      }
      if (ev.key === 'Enter' || ev.key === 'Tab') { ev.preventDefault(); choose(pick); return; }
      if (ev.key === 'Escape') { ev.preventDefault(); closeMenu(); return; }
    }
    if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); send(); }
  });
  box.addEventListener('blur', () => setTimeout(closeMenu, 150));
  const send = async () => {
    const content = box.value.trim();
    if (!content) return;
    box.disabled = true;
    try {
      const m = await post(`/conversations/${convId}/messages`, {content});
      box.value = '';
      await render(m);
      scrolled();
      st.show('');
    } catch (e) { st.show(e.message, true); }
    box.disabled = false;
    box.focus();
  };
  box.focus();
  return () => es.close();
}
