// agents: the directory (public agents and mine, searchable; create one)
// and an agent's profile, editable in place by its creator and read-only
// for everyone else.
import {get, post, patch, put, del} from '/app/api.js';
import {h, clear, avatar, status, field} from '/app/ui.js';
import {directory} from '/app/chat.js';

const STEPS = ['Foundation', 'Hook', 'Gift', 'Identify', 'Engage', 'Sell', 'Nurture', 'Upsell', 'Educate', 'Share'];

export async function agentsView(ctx) {
  const agents = await directory();
  const q = h('input', {type: 'search', id: 'agent-search', placeholder: 'Search agents', 'aria-label': 'Search agents'});
  const list = h('ul', {class: 'cards', 'aria-label': 'Agents'});
  const draw = () => {
    const needle = q.value.trim().toLowerCase();
    clear(list);
    const shown = agents.filter(a => !needle || a.name.toLowerCase().includes(needle) ||
                                       (a.description || '').toLowerCase().includes(needle));
    for (const a of shown)
      list.append(h('li', {class: 'card agent-card'},
        h('a', {href: `#/agents/${a._id}`}, avatar(a.name, a.avatarUrl, 40, 'agent'),
          h('div', {}, h('b', {}, a.name),
            h('span', {class: 'badge'}, a.createdBy === ctx.me._id ? 'mine' : (a.visibility || 'public')),
            h('p', {}, a.description || '')))));
    if (!shown.length) list.append(h('li', {class: 'empty'}, 'No agent matches.'));
  };
  q.addEventListener('input', draw);
  const name = h('input', {type: 'text', required: true, maxlength: 100});
  const description = h('input', {type: 'text', required: true, maxlength: 500});
  const prompt = h('textarea', {rows: 3});
  const visibility = h('select', {}, h('option', {value: 'public'}, 'public'), h('option', {value: 'private'}, 'private'));
  const st = status();
  const create = h('details', {class: 'card'}, h('summary', {}, 'Create an agent'),
    h('form', {onsubmit: async ev => {
      ev.preventDefault();
      try {
        const a = await post('/agents', {name: name.value.trim(), description: description.value.trim(),
                                         prompt: prompt.value, visibility: visibility.value});
        location.hash = `#/agents/${a._id}`;
      } catch (e) { st.show(e.message, true); }
    }}, field('Name', name), field('Description', description), field('Prompt', prompt),
       field('Visibility', visibility), h('button', {type: 'submit', class: 'primary'}, 'Create'), st));
  ctx.main.append(h('div', {class: 'page'}, h('h1', {}, 'Agents'), q, create, list));
  draw();
}

export async function agentView(ctx, id) {
  const [agent, catalogue, enabled, all] = await Promise.all([
    get(`/agents/${id}`), get('/tools?limit=200'), get(`/agents/${id}/tools?limit=200`).catch(() => ({items: []})),
    directory()]);
  const mine = agent.kind === 'system_agent' ? ctx.role === 'admin' : agent.createdBy === ctx.me._id;
  const toolName = new Map(catalogue.items.map(t => [t._id, t.name]));
  const agentName = new Map(all.map(a => [a._id, a.name]));
  const st = status();
  const page = h('div', {class: 'page profile'});
  ctx.main.append(page);
  const ro = !mine;
  const input = (key, value, attrs = {}) => h('input', {type: 'text', name: key, value: value || '', readonly: ro || null, ...attrs});
  const nameIn = input('name', agent.name, {required: true});
  const avatarIn = input('avatarUrl', agent.avatarUrl, {placeholder: 'https://… or data:image/…'});
  const descIn = input('description', agent.description);
  const modelIn = input('model', agent.model, {placeholder: 'the server default'});
  const promptIn = h('textarea', {name: 'prompt', rows: 6, readonly: ro || null}, agent.prompt || '');
  const tagsIn = input('tags', (agent.tags || []).join(', '), {placeholder: 'comma, separated'});
  const visIn = h('select', {name: 'visibility', disabled: ro || null},
    ['public', 'private'].map(v => h('option', {value: v, selected: (agent.visibility || 'public') === v || null}, v)));
  const checks = (legend, items, chosen, label) => h('fieldset', {class: 'picks', disabled: ro || null},
    h('legend', {}, legend), items.map(v => h('label', {class: 'pick'},
      h('input', {type: 'checkbox', value: v, checked: chosen.includes(v) || null}), label(v))));
  const idByName = new Map(catalogue.items.map(t => [t.name, t._id]));
  const ownTools = (agent.tools || []).map(t => toolName.has(t) ? t : idByName.get(t)).filter(Boolean);
  const toolsBox = checks('Tools', catalogue.items.map(t => t._id), ownTools, v => toolName.get(v));
  const delegates = Array.isArray(agent.delegatesTo) ? agent.delegatesTo : [];
  const delegBox = checks('Delegates to', all.filter(a => a._id !== agent._id).map(a => a._id), delegates, v => agentName.get(v));
  const stepsBox = checks('Can guide steps', STEPS, agent.canGuideSteps || [], v => v);
  // each chosen tool's per-agent settings (its agentTools row's config)
  const configs = h('div', {class: 'configs'});
  const rows = new Map(enabled.items.map(r => [r.toolId, r]));
  const drawConfigs = () => {
    const keep = new Map([...configs.querySelectorAll('textarea')].map(t => [t.dataset.tool, t.value]));
    clear(configs);
    const chosen = new Set([...toolsBox.querySelectorAll('input:checked')].map(i => i.value));
    for (const id of rows.keys()) chosen.add(id);
    for (const tool of chosen) {
      const row = rows.get(tool);
      const text = keep.has(tool) ? keep.get(tool) : row && row.config ? JSON.stringify(row.config) : '';
      if (ro && !text) continue;
      configs.append(h('div', {class: 'field'}, h('label', {for: `cfg-${tool}`}, `${toolName.get(tool) || tool}: settings (JSON, optional)`),
        h('textarea', {id: `cfg-${tool}`, rows: 1, readonly: ro || null, dataset: {tool},
                       placeholder: toolName.get(tool) === 'webSearch' ? '{"site": "example.org"}'
                                  : toolName.get(tool) === 'sendEmail' ? '{"allowedRecipients": ["…"]}' : '{}'}, text)));
    }
  };
  drawConfigs();
  toolsBox.addEventListener('change', drawConfigs);
  const picked = box => [...box.querySelectorAll('input:checked')].map(i => i.value);
  const form = h('form', {class: 'card', 'aria-label': 'Agent profile', onsubmit: async ev => {
    ev.preventDefault();
    if (ro) return;
    const body = {name: nameIn.value.trim(), description: descIn.value.trim(), prompt: promptIn.value,
                  visibility: visIn.value, tools: picked(toolsBox), delegatesTo: picked(delegBox),
                  canGuideSteps: picked(stepsBox),
                  tags: tagsIn.value.split(',').map(t => t.trim()).filter(Boolean)};
    body.avatarUrl = avatarIn.value.trim() || null;
    body.model = modelIn.value.trim() || null;
    try {
      await patch(`/agents/${id}`, body);
      for (const t of configs.querySelectorAll('textarea')) {
        const text = t.value.trim();
        if (!text && !rows.has(t.dataset.tool)) continue;
        let config;
        try { config = text ? JSON.parse(text) : undefined; } catch (e) {
          throw new Error(`${toolName.get(t.dataset.tool)}: its settings are not JSON (${e.message})`);
        }
        await put(`/agents/${id}/tools/${t.dataset.tool}`, config === undefined ? {} : {config});
      }
      st.show('Saved.');
    } catch (e) { st.show(e.message, true); }
  }},
    h('div', {class: 'profile-head'}, avatar(agent.name, agent.avatarUrl, 64, 'agent'),
      h('div', {}, h('h1', {}, agent.name), h('p', {class: 'badge'}, mine ? 'You can edit this agent' : 'Read-only: only its creator edits it'))),
    field('Name', nameIn), field('Avatar', avatarIn), field('Description', descIn), field('Prompt', promptIn),
    field('Model', modelIn), field('Tags', tagsIn), field('Visibility', visIn),
    toolsBox, configs, delegBox, stepsBox,
    mine ? h('div', {class: 'row'}, h('button', {type: 'submit', class: 'primary', id: 'save-agent'}, 'Save'),
             agent.kind === 'system_agent' ? null : h('button', {type: 'button', class: 'danger', onclick: async () => {
               if (!confirm(`Delete ${agent.name}?`)) return;
               try { await del(`/agents/${id}`); location.hash = '#/agents'; } catch (e) { st.show(e.message, true); }
             }}, 'Delete')) : null,
    st);
  page.append(h('p', {}, h('a', {href: '#/agents'}, '← All agents')), form);
}
