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
      h('table', {id: 'steps'}, h('thead', {}, h('tr', {}, h('th', {}, 'Step'), h('th', {}, 'Kind'), h('th', {}, 'State'), h('th', {}, 'Progress'))),
        h('tbody', {}, (s.steps || []).map(step => h('tr', {dataset: {step: step.name, state: step.state}},
          h('td', {}, h('b', {}, step.name), h('br'), h('small', {}, step.summary)),
          h('td', {}, step.kind), h('td', {}, step.state),
          h('td', {}, step.processed !== undefined
            ? `${step.processed} read, ${step.changed || 0} changed` + (step.finished ? `, done ${time(step.finished)}` : '')
            : step.finished ? `done ${time(step.finished)}` : ''))))),
      s.verified ? h('p', {id: 'verified'}, 'Last verification: ',
        h('b', {class: s.verified.ok ? 'good' : 'bad'}, s.verified.ok ? 'passed' : 'failed'),
        ` at step ${s.verified.position}, ${time(s.verified.at)}`) : h('p', {id: 'verified'}, 'No verification recorded yet.'),
      h('div', {class: 'row'}, [['up', 'Migrate up'], ['verify', 'Verify'], ['down', 'Roll back']].map(([action, label]) =>
        h('button', {type: 'button', onclick: async () => {
          if (action === 'down' && !confirm('Roll the last migration step back?')) return;
          try {
            await post(`/admin/migrations/${action}`, {});
            st.show(`${label}: queued as a background job; this page shows its progress on reload.`);
          } catch (e) { st.show(e.message, true); }
        }}, label)),
        h('button', {type: 'button', class: 'danger', onclick: async () => {
          if (!confirm('Contract: drop the deprecated fields for good (only after a verification passed)?')) return;
          try { await post('/admin/migrations/contract', {confirm: true}); st.show('Contract: queued.'); }
          catch (e) { st.show(e.message, true); }
        }}, 'Contract')),
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
