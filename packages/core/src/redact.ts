/** Redaction: takes credentials out of any text before it reaches an error message, a stack or a log. */

// Quantifiers are bounded (a scheme of at most 32 characters, a key of at most 64) so that a long
// run of dots or dashes cannot make a pattern retry from every position: redaction stays linear.

// A URL's start: a scheme followed by "://" or ":/", one missing its ":" ("amqp//"), or a bare "//".
// Everything up to the next space or quote is the candidate; its authority is inspected below.
const URL_START = /\b[A-Za-z][A-Za-z0-9+.-]{0,31}(?::\/\/?|\/\/)|(?<![\w:/])\/\//g;
const URL_RUN_END = /[\s"'<>`]/g;
const AUTHORITY_END = /[/?#\\]/g;
const WEB_SCHEME = /^(?:(?:https?|wss?|ftps?|file):?)?\/\/?$/i;
const TRAILING_SCHEME = /[A-Za-z][A-Za-z0-9+.-]{0,31}:?$/;
const USER_INFO_BREAK = /[/?#\\]/;
// A bare host with an optional numeric port: an authority that can't be the first half of a
// password broken by an unencoded "?".
const PLAIN_HOST = /^(?:[A-Za-z0-9.-]{0,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
// A query parameter whose value is a URL of its own (`sqs://r?endpoint=http://u:p@h`).
const NESTED_URL_PARAMETER =
  /^\?(?:[^\s=&#]{1,64}=[^\s&#]*&)*[^\s=&#]{1,64}=[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\//;
// User info of a URL percent-encoded as a query value (`endpoint=http%3A%2F%2Fu%3Ap%40h`): URL
// parsers decode it, so it is as much a credential as the plain form.
const ENCODED_USER_INFO =
  /\b([A-Za-z][A-Za-z0-9+.-]{0,31}%3A(?:%2F){1,2})([^\s"'<>`&#/?]{0,512}?)%40/gi;
// `user:password@host` with no scheme, as many drivers print a connection target. The password
// part holds no "/" or "\", so that `file:///…/node_modules/@scope` in a stack is left alone.
const BARE_USER_INFO =
  /(?<![\w.+%/:-])([A-Za-z0-9._~%!$&()*+,;=-]{0,64}):([^\s"'<>`@/\\]{1,256})@(?=[\w[])/g;
// `key=value`, `key: value`, `"key":"value"`: the key decides (see isSecretKey), the value goes.
const PAIR_HEAD = /(["']?)\b([A-Za-z][\w.-]{0,63})\1(\s{0,8}[:=]\s{0,8})/gi;
// An unterminated quote runs to the end: the text was cut off, the secret may still be there.
const PAIR_VALUE =
  /"[^"]*"?|'[^']*'?|(?:(?:Bearer|Basic|Digest|Negotiate|Token)\s+)?[^\s"'&,;<>]+/iy;
const AUTH_SCHEME = /^(?:Bearer|Basic|Digest|Negotiate|Token)\s+/i;
const BEARER = /\b(Bearer\s+)[\w.~+/=-]{8,}/g;
const PEM_PRIVATE_KEY =
  /-----BEGIN ([A-Z ]{0,32})PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]{0,32}PRIVATE KEY-----|$)/g;
const AWS_ACCESS_KEY_ID =
  /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b/g;
// An AWS secret access key: 40 characters of base64 with nothing around it to name it. Mixed case
// and a digit tell it from a hex digest; no leading "/" tells it from a path.
const BASE64_40 = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const MASK = '***';

/**
 * Removes credentials from text: user info in URLs of any scheme, well-formed or not
 * (`amqp//u:p@h`, `redis:/:p@h`, a password with an unencoded `/`, `?` or `#`), bare
 * `user:password@host`, `password=…`-style pairs (query strings, JSON, headers),
 * `Authorization: Bearer …`, PEM private keys and AWS-style keys. Idempotent, and it leaves
 * ordinary text alone: an e-mail address or a URL without credentials comes out as it went in.
 */
export function redact(text: string): string {
  const withoutKeys = text.replace(
    PEM_PRIVATE_KEY,
    (_match, kind: string) => `-----BEGIN ${kind}PRIVATE KEY-----${MASK}`,
  );
  return redactPairs(redactUrls(withoutKeys))
    .replace(
      ENCODED_USER_INFO,
      (_match, head: string, userInfo: string) => `${head}${maskEncodedUserInfo(userInfo)}%40`,
    )
    .replace(BARE_USER_INFO, (match, user: string) =>
      user.toLowerCase() === 'mailto' ? match : `${user}:${MASK}@`,
    )
    .replace(BEARER, `$1${MASK}`)
    .replace(AWS_ACCESS_KEY_ID, MASK)
    .replace(BASE64_40, (match) =>
      /[A-Z]/.test(match) && /[a-z]/.test(match) && /[0-9]/.test(match) && !match.startsWith('/')
        ? MASK
        : match,
    );
}

/**
 * Redacts a string known to be a broker URL, which may be malformed: everything between the
 * scheme and the last `@` is user info, whatever characters it holds; then the rest as {@link redact}.
 */
export function redactUrl(text: string): string {
  const at = text.lastIndexOf('@');
  const start = /^\s*(?:[A-Za-z][A-Za-z0-9+.-]{0,31}:?)?\/{0,2}/.exec(text)?.[0].length ?? 0;
  const masked = at >= start ? `${text.slice(0, start)}${MASK}${text.slice(at)}` : text;
  return redact(masked);
}

/** Whether the key of a `key=value` pair names a credential (`password`, `X-Amz-Signature`, …). */
export function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[_.-]/g, '');
  return (
    SECRET_KEY_PARTS.some((part) => normalized.includes(part)) ||
    SECRET_KEYS.has(normalized) ||
    /(?:^|[_.-])pass$/i.test(key)
  );
}

const SECRET_KEY_PARTS = [
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'token',
  'apikey',
  'accesskey',
  'privatekey',
  'accountkey',
  'sessionkey',
  'credential',
  'signature',
  'authorization',
];
const SECRET_KEYS = new Set(['pass', 'auth', 'sig', 'key']);

function redactUrls(text: string): string {
  let out = '';
  let position = 0;
  let runEnd = -1;
  let lastAtInRun = -1;
  URL_START.lastIndex = 0;
  for (let match = URL_START.exec(text); match !== null; match = URL_START.exec(text)) {
    const afterScheme = match.index + match[0].length;
    // Several URLs can share one run of text (`redis://a@h1,redis://b@h2`): measure it once.
    if (afterScheme > runEnd) {
      runEnd = indexOf(text, URL_RUN_END, afterScheme, text.length);
      const at = text.slice(afterScheme, runEnd).lastIndexOf('@');
      lastAtInRun = at < 0 ? -1 : afterScheme + at;
    }
    let authorityEnd = indexOf(text, AUTHORITY_END, afterScheme, runEnd);
    if (text.startsWith('//', authorityEnd)) {
      // The "authority" ran into the scheme of the next URL (`redis://a:p@h1,redis://…`).
      const nextScheme = TRAILING_SCHEME.exec(text.slice(afterScheme, authorityEnd));
      if (nextScheme !== null && nextScheme.index > 0)
        authorityEnd = afterScheme + nextScheme.index;
    }
    const atInAuthority = text.slice(afterScheme, authorityEnd).lastIndexOf('@');
    const at = atInAuthority < 0 ? -1 : afterScheme + atInAuthority;
    let end = authorityEnd;
    let replacement = text.slice(afterScheme, authorityEnd);
    if (at >= afterScheme) {
      replacement = `${maskUserInfo(text.slice(afterScheme, at))}@${text.slice(at + 1, authorityEnd)}`;
    } else if (
      lastAtInRun > authorityEnd &&
      (text.slice(afterScheme, authorityEnd).includes(':') || !WEB_SCHEME.test(match[0])) &&
      !nestedUrlOwnsAt(text, afterScheme, authorityEnd, lastAtInRun)
    ) {
      // A password holding an unencoded "/", "?" or "#" ends the authority early
      // (`redis://:pa/ss@h`), so the real "@" comes later: mask up to that one. Broker URLs never
      // carry an "@" after the host; web and file URLs do (`/node_modules/@scope`,
      // `registry.npmjs.org/@scope`), so there it takes a ":" in the would-be authority as well.
      // This may mask a harmless `host:port/p?x=a@b`, which is the safe way to be wrong.
      replacement = `${maskUserInfo(text.slice(afterScheme, lastAtInRun))}@`;
      end = lastAtInRun + 1;
    }
    out += text.slice(position, afterScheme) + replacement;
    position = end;
    URL_START.lastIndex = position;
  }
  return out + text.slice(position);
}

// Walks the pairs by hand and reads a value only after its key turned out to be a secret, so a
// value that is not one is scanned again for pairs inside it (`url=redis://h/?password=…`).
function redactPairs(text: string): string {
  let out = '';
  let position = 0;
  PAIR_HEAD.lastIndex = 0;
  for (let match = PAIR_HEAD.exec(text); match !== null; match = PAIR_HEAD.exec(text)) {
    const [head, , key = ''] = match;
    const afterHead = match.index + head.length;
    out += text.slice(position, afterHead);
    position = afterHead;
    if (isSecretKey(key)) {
      PAIR_VALUE.lastIndex = afterHead;
      const value = PAIR_VALUE.exec(text)?.[0] ?? '';
      const scheme = AUTH_SCHEME.exec(value)?.[0] ?? '';
      const opening = value[0] === '"' || value[0] === "'" ? value[0] : '';
      if (value !== '') out += `${scheme}${opening}${MASK}${opening}`;
      position = afterHead + value.length;
    }
    PAIR_HEAD.lastIndex = position;
  }
  return out + text.slice(position);
}

function indexOf(text: string, pattern: RegExp, from: number, limit: number): number {
  pattern.lastIndex = from;
  const found = pattern.exec(text);
  return found === null || found.index > limit ? limit : found.index;
}

/**
 * Whether the "@" after this URL's authority belongs to a URL in its query instead
 * (`sqs://us-east-1?endpoint=http://u:p@h`): then that URL's own user info is masked when the
 * scan reaches it, and this one stays readable. Only for a plain `host[:port]` authority, so a
 * password broken by an unencoded "?" (`redis://u:pa?ss@h`) is still masked whole.
 */
function nestedUrlOwnsAt(
  text: string,
  afterScheme: number,
  authorityEnd: number,
  at: number,
): boolean {
  if (text[authorityEnd] !== '?') return false;
  if (!PLAIN_HOST.test(text.slice(afterScheme, authorityEnd))) return false;
  return NESTED_URL_PARAMETER.test(text.slice(authorityEnd, at));
}

function maskEncodedUserInfo(userInfo: string): string {
  const colon = userInfo.search(/%3A/i);
  return colon < 0 ? MASK : `${userInfo.slice(0, colon + 3)}${MASK}`;
}

function maskUserInfo(userInfo: string): string {
  const colon = userInfo.indexOf(':');
  if (colon < 0 || USER_INFO_BREAK.test(userInfo.slice(0, colon))) return MASK;
  return `${userInfo.slice(0, colon)}:${MASK}`;
}
