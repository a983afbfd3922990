import type { ServerResponse } from "node:http";
import { sendHtml } from "./http.ts";
import { MIN_PASSWORD_LENGTH } from "./passwords.ts";

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

// Inline, with no external assets: the Content-Security-Policy allows nothing else.
const STYLE = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:32px 16px;
background:#eef0f4;color:#1f2430;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{width:100%;max-width:440px}
.badge{display:inline-flex;align-items:center;gap:6px;margin:0 0 14px;padding:4px 12px;border-radius:999px;
background:#fff4d6;color:#6b3d00;border:1px solid #f0d79a;font-size:13px;font-weight:600}
.card{background:#fff;border:1px solid #dde1e8;border-radius:14px;padding:32px;box-shadow:0 1px 2px rgba(16,24,40,.06),0 12px 32px rgba(16,24,40,.08)}
h1{margin:0 0 6px;font-size:26px;line-height:1.2;letter-spacing:-.01em}
.lead{margin:0 0 24px;color:#4a5162}
.lead strong{color:#1f2430;font-weight:600;overflow-wrap:anywhere}
.field{margin:0 0 18px}
label{display:block;margin:0 0 6px;font-weight:600}
.optional{font-weight:400;color:#5b6272}
input[type=email],input[type=password],input[type=text]{display:block;width:100%;padding:10px 12px;font:inherit;color:inherit;
background:#fff;border:1px solid #767d8c;border-radius:8px}
input:hover{border-color:#4a5162}
input[aria-invalid=true]{border-color:#b42318;border-width:2px;padding:9px 11px}
input[readonly]{background:#f4f5f7;color:#4a5162}
.hint{margin:6px 0 0;font-size:14px;color:#5b6272}
.field-error{margin:6px 0 0;font-size:14px;font-weight:600;color:#b42318}
.alert{margin:0 0 20px;padding:12px 14px;border-radius:8px;border:1px solid #f1a9a0;background:#fdf0ee;color:#7a1a10}
.notice{margin:0 0 20px;padding:12px 14px;border-radius:8px;border:1px solid #9bd3ae;background:#edf8f0;color:#125a2b}
.row{display:grid;grid-template-columns:1fr 1fr;gap:0 12px}
button,.button{display:block;width:100%;margin:6px 0 0;padding:11px 16px;font:inherit;font-weight:600;text-align:center;
text-decoration:none;color:#fff;background:#3b3fc4;border:0;border-radius:8px;cursor:pointer}
button:hover,.button:hover{background:#2f329e}
a{color:#3438b0;text-underline-offset:2px}
a:hover{color:#23267a}
:focus-visible{outline:3px solid #1a5fd0;outline-offset:2px}
.links{margin:22px 0 0;padding:18px 0 0;border-top:1px solid #e6e8ee;display:flex;flex-direction:column;gap:8px}
.links p{margin:0}
.fine{margin:18px 0 0;font-size:13px;color:#5b6272;text-align:center}
code{font:14px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f1f2f6;padding:1px 5px;border-radius:4px;overflow-wrap:anywhere}
ul.plain{margin:0;padding-left:20px}
@media (max-width:480px){body{padding:16px 12px;align-items:flex-start}.card{padding:24px 20px}.row{grid-template-columns:1fr}}
`;

function layout(title: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} · Local Kinde</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="badge">Local Kinde server — development only</p>
<div class="card">
${content}
</div>
</main>
</body>
</html>
`;
}

interface FieldOptions {
  name: string;
  label: string;
  type: "email" | "password" | "text";
  value?: string;
  error?: string | undefined;
  hint?: string;
  autocomplete: string;
  required?: boolean;
  optional?: boolean;
  autofocus?: boolean;
}

function field(options: FieldOptions): string {
  const id = options.name;
  const describedBy = [options.hint ? `${id}-hint` : "", options.error ? `${id}-error` : ""].filter(Boolean).join(" ");
  const attributes = [
    `id="${id}"`,
    `name="${id}"`,
    `type="${options.type}"`,
    `autocomplete="${options.autocomplete}"`,
    options.value !== undefined ? `value="${escapeHtml(options.value)}"` : "",
    options.required ? "required" : "",
    options.autofocus ? "autofocus" : "",
    options.error ? `aria-invalid="true"` : "",
    describedBy ? `aria-describedby="${describedBy}"` : "",
    options.type === "email" ? `spellcheck="false" autocapitalize="none"` : "",
  ].filter(Boolean);
  return `<div class="field">
<label for="${id}">${escapeHtml(options.label)}${
    options.optional ? ` <span class="optional">(optional)</span>` : ""
  }</label>
<input ${attributes.join(" ")}>
${options.hint ? `<p class="hint" id="${id}-hint">${escapeHtml(options.hint)}</p>` : ""}
${options.error ? `<p class="field-error" id="${id}-error">${escapeHtml(options.error)}</p>` : ""}
</div>`;
}

type Names = { firstName?: string | undefined; lastName?: string | undefined };

function nameFields(values: Names, errors: Names): string {
  return `${field({ name: "p_first_name", label: "First name", type: "text", value: values.firstName, error: errors.firstName, autocomplete: "given-name", optional: true })}
${field({ name: "p_last_name", label: "Last name", type: "text", value: values.lastName, error: errors.lastName, autocomplete: "family-name", optional: true })}`;
}

function alert(message: string | undefined): string {
  return message ? `<div class="alert" role="alert">${escapeHtml(message)}</div>` : "";
}

function requestLink(path: string, requestId: string): string {
  return `${path}?request=${encodeURIComponent(requestId)}`;
}

function cancelLink(requestId: string): string {
  return `<p><a href="${escapeHtml(requestLink("/auth/cancel", requestId))}">Cancel and go back to the app</a></p>`;
}

const PASSWORD = { name: "p_password", type: "password", required: true } as const;

function newPasswordField(label: string, error: string | undefined, autofocus: boolean): string {
  const hint = error ? {} : { hint: `At least ${MIN_PASSWORD_LENGTH} characters.` };
  return field({ ...PASSWORD, autocomplete: "new-password", label, error, ...hint, autofocus });
}

function emailField(value: string, autocomplete: string, options: { error?: string; autofocus?: boolean }): string {
  return field({ name: "p_email", label: "Email", type: "email", value, autocomplete, required: true, ...options });
}

export function signInPage(input: {
  requestId: string;
  appOrigin: string;
  email: string;
  error?: string | undefined;
  createOrgName?: string | null | undefined;
}): string {
  return layout(
    "Sign in",
    `<h1>Sign in</h1>
<p class="lead">to continue to <strong>${escapeHtml(input.appOrigin)}</strong></p>
${creatingNotice(input.createOrgName)}
${alert(input.error)}
<form method="post" action="/auth/sign-in">
<input type="hidden" name="request_id" value="${escapeHtml(input.requestId)}">
${emailField(input.email, "username", { autofocus: input.email === "" })}
${field({ ...PASSWORD, label: "Password", autocomplete: "current-password", autofocus: input.email !== "" })}
<button type="submit">Sign in</button>
</form>
<div class="links">
<p>No account yet? <a href="${escapeHtml(requestLink("/auth/sign-up", input.requestId))}">Create one</a></p>
${cancelLink(input.requestId)}
</div>`,
  );
}

export type SignUpErrors = Partial<Record<"firstName" | "lastName" | "email" | "password", string>>;

function creatingNotice(orgName: string | null | undefined): string {
  return orgName ? `<p>and create the organization <strong>${escapeHtml(orgName)}</strong></p>` : "";
}

export function signUpPage(input: {
  requestId: string;
  appOrigin: string;
  values: { firstName: string; lastName: string; email: string };
  errors?: SignUpErrors;
  /** is_create_org: the organization made for the person once signed up. */
  createOrgName?: string | null | undefined;
}): string {
  const errors = input.errors ?? {};
  const count = Object.keys(errors).length;

  const summary =
    count === 0 ? undefined : count === 1 ? "Please fix the highlighted field." : "Please fix the highlighted fields.";
  return layout(
    "Create your account",
    `<h1>Create your account</h1>
<p class="lead">to continue to <strong>${escapeHtml(input.appOrigin)}</strong></p>
${creatingNotice(input.createOrgName)}
${alert(summary)}
<form method="post" action="/auth/sign-up">
<input type="hidden" name="request_id" value="${escapeHtml(input.requestId)}">
<div class="row">
${nameFields(input.values, errors)}
</div>
${emailField(input.values.email, "email", { error: errors.email })}
${newPasswordField("Password", errors.password, false)}
<button type="submit">Create account</button>
</form>
<div class="links">
<p>Already have an account? <a href="${escapeHtml(requestLink("/auth/sign-in", input.requestId))}">Sign in</a></p>
${cancelLink(input.requestId)}
</div>`,
  );
}

export function setPasswordPage(input: {
  requestId: string;
  setupId: string;
  appOrigin: string;
  email: string;
  reason: "no_password" | "reset_requested";
  error?: string;
}): string {
  const lead =
    input.reason === "no_password"
      ? "Your account was created for you and has no password yet. Choose one to continue."
      : "A password reset was requested for your account. Choose a new password to continue.";
  return layout(
    "Choose a password",
    `<h1>Choose a password</h1>
<p class="lead">for <strong>${escapeHtml(input.email)}</strong>, to continue to <strong>${escapeHtml(input.appOrigin)}</strong></p>
<div class="notice" role="status">${escapeHtml(lead)}</div>
<form method="post" action="/auth/set-password">
<input type="hidden" name="request_id" value="${escapeHtml(input.requestId)}">
<input type="hidden" name="setup_id" value="${escapeHtml(input.setupId)}">
${newPasswordField("New password", input.error, true)}
<button type="submit">Save password and continue</button>
</form>
<div class="links">
${cancelLink(input.requestId)}
</div>`,
  );
}

export function accountPage(input: {
  email: string;
  csrf: string;
  values: { firstName: string; lastName: string };
  errors?: Names;
  saved: boolean;
  siteUrl: string;
  organizations: string[];
}): string {
  const errors = input.errors ?? {};
  const organizations =
    input.organizations.length === 0
      ? `<p>You are not a member of any organization.</p>`
      : `<ul>${input.organizations.map((name) => `<li>${escapeHtml(name)}</li>`).join("")}</ul>`;
  return layout(
    "Your account",
    `<h1>Your account</h1>
<p class="lead">Signed in as <strong>${escapeHtml(input.email)}</strong></p>
${
  input.saved
    ? `<div class="notice" role="status">Saved. Apps receive the new name through their webhooks, and in their next tokens.</div>`
    : ""
}
${alert(Object.keys(errors).length > 0 ? "Please fix the highlighted fields." : undefined)}
<form method="post" action="/account">
<input type="hidden" name="csrf" value="${escapeHtml(input.csrf)}">
${nameFields(input.values, errors)}
<button type="submit">Save</button>
</form>
<h2>Your organizations</h2>
${organizations}
<div class="links">
<p><a href="${escapeHtml(input.siteUrl)}">Go to the app</a></p>
<p><a href="/logout">Sign out of the local Kinde server</a></p>
</div>`,
  );
}

type Message = { title: string; message: string; link?: { href: string; text: string }; role?: "alert" | "status" };

export function sendMessage(response: ServerResponse, status: number, input: Message, headers = {}): void {
  const { title, message, link, role } = input;
  const html = layout(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p class="lead"${role ? ` role="${role}"` : ""}>${escapeHtml(message)}</p>
${link ? `<a class="button" href="${escapeHtml(link.href)}">${escapeHtml(link.text)}</a>` : ""}`,
  );
  sendHtml(response, status, html, headers);
}

export function homePage(input: { issuer: string; siteUrl: string }): string {
  const endpoint = (path: string, text: string) =>
    `<li>${escapeHtml(text)}: <code>${escapeHtml(input.issuer + path)}</code></li>`;
  return layout(
    "Local Kinde server",
    `<h1>Local Kinde server</h1>
<p class="lead">A stand-in for Kinde so the app at <strong>${escapeHtml(
      input.siteUrl,
    )}</strong> can sign users up and in without a Kinde account or a network.</p>
<ul class="plain">
${endpoint("/.well-known/openid-configuration", "Discovery")}
${endpoint("/.well-known/jwks.json", "Signing keys")}
${endpoint("/oauth2/auth", "Sign in")}
${endpoint("/oauth2/token", "Tokens")}
</ul>
<div class="links">
<p><a href="/account">Your account on this server</a></p>
<p><a href="${escapeHtml(input.siteUrl)}">Go to the app</a></p>
</div>`,
  );
}
