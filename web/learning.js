// learning: where I stand in each learning flow — its steps in order, my
// state on each, my roles and who is assigned — with the moves the state
// machine allows.
import {get, put} from '/app/api.js';
import {h, clear, status} from '/app/ui.js';
import {person} from '/app/chat.js';

const NEXT = {
  'Not Started': ['In Progress', 'Blocked', 'Skipped'],
  'In Progress': ['Completed', 'Blocked', 'Skipped', 'Not Started'],
  'Blocked': ['In Progress', 'Skipped', 'Not Started'],
  'Completed': ['In Progress'],
  'Skipped': ['In Progress', 'Not Started'],
};

export async function learningView(ctx) {
  const page = h('div', {class: 'page'}, h('h1', {}, 'Learning'));
  const st = status();
  ctx.main.append(page);
  const body = h('div', {});
  page.append(st, body);
  const draw = async () => {
    const me = await get('/me/progress');
    clear(body);
    if (!me.items.length) body.append(h('p', {class: 'empty'}, 'No learning flows yet.'));
    for (const flow of me.items) {
      const done = flow.steps.filter(s => s.status === 'Completed').length;
      const assigned = await get(`/flows/${flow._id}/assignments`).catch(() => ({items: []}));
      const who = new Map();
      for (const a of assigned.items) {
        const p = await person(a.agentId ? 'agent' : 'user', a.agentId || a.userId);
        if (!who.has(a.step)) who.set(a.step, []);
        who.get(a.step).push(`${p.name} (${a.role})`);
      }
      body.append(h('section', {class: 'card flow', 'aria-label': flow.title},
        h('h2', {}, flow.title, h('small', {}, ` ${done} of ${flow.steps.length} completed`)),
        h('progress', {max: flow.steps.length, value: done, 'aria-label': `${flow.title} progress`}),
        h('ol', {class: 'steps'}, flow.steps.map(s => h('li', {class: 'step', dataset: {step: s.stepName, status: s.status}},
          h('div', {class: 'step-head'}, h('b', {}, s.stepName),
            h('span', {class: `state s-${s.status.replace(/\s+/g, '-').toLowerCase()}`}, s.status),
            s.roles && s.roles.length ? h('span', {class: 'badge'}, 'my role: ' + s.roles.join(', ')) : null),
          who.has(s.stepName) ? h('p', {class: 'hint assigned'}, 'Assigned: ' + who.get(s.stepName).join(', ')) : null,
          h('div', {class: 'moves'}, (NEXT[s.status] || []).map(to => h('button', {type: 'button',
            'aria-label': `Move ${s.stepName} to ${to}`, onclick: async () => {
              try {
                await put(`/flows/${flow._id}/steps/${encodeURIComponent(s.stepName)}/progress`, {status: to});
                st.show(`${s.stepName}: ${to}.`);
                await draw();
              } catch (e) { st.show(e.message, true); }
            }}, to))))))));
    }
  };
  await draw();
}
