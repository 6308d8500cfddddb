// admin: the schema in force, the migration's steps with their state and
// last verification, feature flags, and the job queue.
import {get, put, post} from '/app/api.js';
import {h, clear, status, time} from '/app/ui.js';

export async function adminView(ctx) {
  const page = h('div', {class: 'page admin'}, h('h1', {}, 'Administration'));
  const st = status();
  ctx.main.append(page);
  const [mig, flags, jobs] = await Promise.all([get('/admin/migrations'), get('/admin/flags'), get('/admin/jobs?limit=20')]);
  const s = mig.status || {};
  page.append(st,
    h('section', {class: 'card', 'aria-label': 'Migration'},
      h('h2', {}, 'Schema and migration'),
      h('p', {}, 'Schema in force: ', h('b', {id: 'schema-name'}, s.schema || '?'),
        ` — step ${s.position || 0} of ${s.count || 0}`),
      s.schema === 'one' && !s.position
        ? h('p', {class: 'hint'}, 'This database was created at the ONE schema: it has nothing to migrate.') : null,
      s.lock ? h('p', {class: 'badge'}, `Running: ${JSON.stringify(s.lock)}`) : null,
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Step'), h('th', {}, 'Kind'), h('th', {}, 'State'), h('th', {}, 'Progress'))),
        h('tbody', {}, (s.steps || []).map(step => h('tr', {},
          h('td', {}, h('b', {}, step.name), h('br'), h('small', {}, step.summary)),
          h('td', {}, step.kind), h('td', {}, step.state),
          h('td', {}, step.progress ? JSON.stringify(step.progress) : ''))))),
      s.verification || mig.verification ? h('p', {}, 'Last verification: ',
        JSON.stringify(s.verification || mig.verification)) : h('p', {}, 'No verification recorded yet.'),
      mig.failures && mig.failures.length ? h('p', {class: 'status bad'}, `${mig.failures.length} failure(s): ${JSON.stringify(mig.failures[0])}`) : null),
    h('section', {class: 'card', 'aria-label': 'Feature flags'}, h('h2', {}, 'Feature flags'),
      h('ul', {class: 'flags'}, flags.items.map(f => h('li', {},
        h('label', {}, h('input', {type: 'checkbox', checked: f.on || null, onchange: async ev => {
          try { await put(`/admin/flags/${encodeURIComponent(f.name)}`, {on: ev.target.checked}); st.show(`${f.name}: ${ev.target.checked ? 'on' : 'off'}`); }
          catch (e) { st.show(e.message, true); ev.target.checked = !ev.target.checked; }
        }}), ' ', h('code', {}, f.name)), h('p', {}, f.summary))))),
    h('section', {class: 'card', 'aria-label': 'Jobs'}, h('h2', {}, 'Job queue'),
      h('p', {}, Object.entries(jobs.counts || {}).map(([k, v]) => `${k} ${v}`).join(' · ')),
      h('table', {}, h('thead', {}, h('tr', {}, ['Id', 'Kind', 'State', 'Attempts', 'Created', 'Error', ''].map(t => h('th', {}, t)))),
        h('tbody', {}, jobs.items.map(j => h('tr', {}, h('td', {}, j.id), h('td', {}, j.kind), h('td', {}, j.state),
          h('td', {}, `${j.attempts}/${j.maxAttempts}`), h('td', {}, time(j.createdAt)), h('td', {}, j.error || ''),
          h('td', {}, j.state === 'pending' ? h('button', {type: 'button', onclick: async () => {
            try { await post(`/admin/jobs/${j.id}/cancel`); st.show(`job ${j.id} cancelled`); } catch (e) { st.show(e.message, true); }
          }}, 'Cancel') : null)))))));
}
