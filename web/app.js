// app: ONE's web app. A hash router (#/chats, #/c/ID, #/agents, #/agents/ID,
// #/learning, #/admin, #/signin), the signed-in person, the layout with its
// navigation, and the theme. Each screen is a module that draws into main.
import {get, session, signOut} from '/app/api.js';
import {h, clear, avatar} from '/app/ui.js';
import {authView} from '/app/auth.js';
import {chatsView} from '/app/chat.js';
import {agentsView, agentView} from '/app/agents.js';
import {learningView} from '/app/learning.js';
import {adminView} from '/app/admin.js';

const state = {me: null, role: null, cleanup: null};

function theme(next) {
  const saved = next || localStorage.getItem('one.theme') || '';
  if (saved) document.documentElement.dataset.theme = saved;
  else delete document.documentElement.dataset.theme;
  if (next) localStorage.setItem('one.theme', next);
}

function currentTheme() {
  return document.documentElement.dataset.theme ||
         (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
}

function nav(active) {
  const link = (href, label, key) =>
    h('a', {href, class: active === key ? 'active' : null, 'aria-current': active === key ? 'page' : null}, label);
  return h('header', {class: 'top'},
    h('a', {class: 'brand', href: '#/chats', 'aria-label': 'ONE, home'},
      h('img', {src: '/app/logo.svg', alt: '', width: 28, height: 28}), h('span', {}, 'ONE')),
    h('nav', {'aria-label': 'Main'},
      link('#/chats', 'Chats', 'chats'), link('#/agents', 'Agents', 'agents'),
      link('#/learning', 'Learning', 'learning'),
      state.role === 'admin' ? link('#/admin', 'Admin', 'admin') : null),
    h('div', {class: 'me'},
      h('button', {type: 'button', class: 'ghost', id: 'theme', 'aria-label': 'Switch between light and dark',
                   onclick: () => theme(currentTheme() === 'dark' ? 'light' : 'dark')},
        currentTheme() === 'dark' ? '☀' : '☾'),
      state.me ? h('span', {class: 'who'}, avatar(state.me.name || state.me.email, state.me.image, 24),
                   h('span', {class: 'name'}, state.me.name || state.me.email)) : null,
      h('button', {type: 'button', class: 'ghost', id: 'signout', onclick: async () => {
        await signOut();
        state.me = null;
        location.hash = '#/signin';
      }}, 'Sign out')));
}

async function whoami() {
  try {
    const s = await session();
    state.role = s.role;
    state.me = await get('/me');
    return true;
  } catch (e) {
    state.me = null;
    return false;
  }
}

async function route() {
  const root = document.getElementById('root');
  if (state.cleanup) { state.cleanup(); state.cleanup = null; }
  const hash = location.hash || '#/chats';
  const [, page, id] = hash.split('/');
  if (page === 'signin' || page === 'signup') {
    clear(root).append(authView(page === 'signup', async () => {
      await whoami();
      location.hash = '#/chats';
    }));
    return;
  }
  if (!state.me && !(await whoami())) {
    location.hash = '#/signin';
    return;
  }
  const key = {c: 'chats', chats: 'chats', agents: 'agents', learning: 'learning', admin: 'admin'}[page] || 'chats';
  const main = h('main', {id: 'main', tabindex: '-1'});
  clear(root).append(nav(key), main);
  const ctx = {me: state.me, role: state.role, main, onCleanup: fn => { state.cleanup = fn; }};
  try {
    if (page === 'agents' && id) await agentView(ctx, decodeURIComponent(id));
    else if (page === 'agents') await agentsView(ctx);
    else if (page === 'learning') await learningView(ctx);
    else if (page === 'admin') await adminView(ctx);
    else await chatsView(ctx, page === 'c' ? decodeURIComponent(id || '') : null);
  } catch (e) {
    if (e.status === 401) {
      state.me = null;
      location.hash = '#/signin';
      return;
    }
    main.append(h('p', {class: 'status bad', role: 'alert'}, e.message));
  }
}

theme();
addEventListener('hashchange', route);
route();
