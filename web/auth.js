// auth: the sign-in and sign-up screen.
import {signIn} from '/app/api.js';
import {h, field, status} from '/app/ui.js';

export function authView(signup, done) {
  const email = h('input', {type: 'email', name: 'email', autocomplete: 'email', required: true});
  const password = h('input', {type: 'password', name: 'password', required: true, minlength: signup ? 8 : null,
                               autocomplete: signup ? 'new-password' : 'current-password'});
  const name = h('input', {type: 'text', name: 'name', autocomplete: 'name'});
  const st = status();
  const form = h('form', {class: 'card auth', onsubmit: async ev => {
    ev.preventDefault();
    st.show(signup ? 'Creating your account…' : 'Signing in…');
    try {
      await signIn(email.value.trim(), password.value, signup, name.value.trim());
      done();
    } catch (e) {
      st.show(e.message, true);
    }
  }},
    h('h1', {}, signup ? 'Create your ONE account' : 'Sign in to ONE'),
    signup ? field('Your name', name) : null,
    field('Email', email),
    field('Password', password, signup ? 'At least 8 characters.' : null),
    h('button', {type: 'submit', class: 'primary'}, signup ? 'Sign up' : 'Sign in'),
    st,
    h('p', {}, signup ? 'Have an account? ' : 'New here? ',
      h('a', {href: signup ? '#/signin' : '#/signup'}, signup ? 'Sign in' : 'Create an account')));
  return h('main', {id: 'main', class: 'center'}, form);
}
