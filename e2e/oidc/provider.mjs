// A real OpenID Connect provider for the tests: `oidc-provider` (a certified implementation,
// installed from npm by scripts/tools.sh) on 127.0.0.1, with dynamic client registration so
// each test server registers its own exact redirect URI.
//
// Test users: any login is an account whose email is the login itself; logins starting with
// "unverified" have `email_verified: false`. The interaction page signs in with a login, or
// ends the sign-in with an OAuth error the tests choose (access_denied = "Cancel",
// consent_required, ...).
//
// Environment: OIDC_PROVIDER_MODULE (path of oidc-provider's lib/index.js), PORT.
// Prints "oidc-provider listening on <issuer>" when ready.

import http from 'node:http';
import { pathToFileURL } from 'node:url';

const { default: Provider } = await import(pathToFileURL(process.env.OIDC_PROVIDER_MODULE).href);

const port = Number(process.env.PORT || 0);
const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [],
  // TEST_OIDC_CLAIMS_IN_USERINFO=1 keeps email claims for the UserInfo endpoint (the
  // conformant default); otherwise they are in the ID token, as Google, Microsoft and LinkedIn
  // send them.
  conformIdTokenClaims: process.env.TEST_OIDC_CLAIMS_IN_USERINFO === '1',
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
  },
  interactions: {
    url(ctx, interaction) {
      return `/interaction/${interaction.uid}`;
    },
  },
  cookies: { keys: ['stratus-test-provider-cookie-key'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: id,
          email_verified: !id.startsWith('unverified'),
          name: id.split('@')[0],
        };
      },
    };
  },
});

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!DOCTYPE html><html><head><title>Test ID</title></head><body>
<h1>Test ID sign-in</h1>
<p>Client ${escapeHtml(details.params.client_id)} asks for ${escapeHtml(details.params.scope)}.</p>
<form method="post" action="/interaction/${escapeHtml(uid)}">
  <label for="login">Email</label> <input id="login" name="login" autocomplete="off">
  <button id="sign-in" type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}">
  <input type="hidden" name="error" value="access_denied">
  <button id="cancel" type="submit">Cancel</button>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}">
  <input type="hidden" name="error" value="consent_required">
  <input type="hidden" name="error_description" value="AADSTS65001: The user or administrator has not consented to use the application.">
  <button id="needs-admin" type="submit">Needs admin approval</button>
</form>
</body></html>`);
    return;
  }
  const form = await readForm(req);
  let result;
  if (form.get('error')) {
    result = {
      error: form.get('error'),
      error_description: form.get('error_description') || undefined,
    };
  } else {
    const accountId = (form.get('login') || '').trim();
    if (!accountId) {
      res.statusCode = 400;
      res.end('login required');
      return;
    }
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    result = { login: { accountId }, consent: { grantId } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  const match = new URL(req.url, issuer).pathname.match(/^\/interaction\/([^/]+)$/);
  if (!match) {
    callback(req, res);
    return;
  }
  interaction(req, res, match[1]).catch((error) => {
    res.statusCode = 500;
    res.end(`interaction failed: ${error}`);
  });
});

console.log(`oidc-provider listening on ${issuer}`);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
if (process.env.EXIT_WITH_STDIN) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
