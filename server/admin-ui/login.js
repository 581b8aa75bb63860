// Sign-in: posts the token as JSON and shows a refusal in place; without JS the form posts itself.
const form = document.getElementById('login-form');
const status = document.getElementById('login-status');
const MESSAGES = {
  unauthorized: 'That token is not valid.',
  forbidden: 'Sign-in from another site was refused.',
  expired: 'Your session has ended. Please sign in again.',
  too_many_requests: 'Too many failed sign-ins from this address. Try again later.',
  role: 'That token cannot sign in to the console: use an admin or readonly token.',
};

const params = new URLSearchParams(location.search);
function say(text, kind = 'error') {
  status.replaceChildren();
  const p = document.createElement('p');
  p.className = kind;
  p.textContent = text;
  status.append(p);
}
if (params.get('error')) say(MESSAGES[params.get('error')] ?? 'Sign-in failed.');
else if (params.get('signedOut')) say('You have signed out.', 'notice');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    const res = await fetch('/admin/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ token: form.token.value }),
    });
    if (res.ok) {
      location.assign('/admin/');
      return;
    }
    const body = await res.json().catch(() => null);
    // A 403 is either a sign-in from another site or a token whose role has no console: the
    // server's message says which.
    const code = body?.error?.code;
    say((res.status === 403 ? body?.error?.message : undefined) ?? MESSAGES[code] ?? body?.error?.message ?? `Sign-in failed (${res.status}).`);
    form.token.select();
  } catch {
    say('The server could not be reached.');
  } finally {
    button.disabled = false;
  }
});
