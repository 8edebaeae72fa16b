/** Redaction for display: core's `redact`, keeping a URL readable whose query carries another URL with credentials. */
import { redact } from '@omnibus/core';

// A URL whose query holds a parameter that is itself a URL (`sqs://us-east-1?endpoint=http://…`).
const URL_TOKEN = /\b[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s"'<>`]+/g;
const QUERY_URL = /[?&][^=&#]{1,64}=[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\//;
// The part before the query: a scheme, then a plain host (a name or IPv4), an optional numeric
// port and a path, and no "@": nothing there can be user info.
const PLAIN_HEAD = /^[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[A-Za-z0-9.-]*(?::\d{1,5})?(?:\/[^@?#]*)?$/;
// Stand-ins for such URLs while core redacts the text around them: private-use characters, which
// no rule of core's matches on its own, so one survives unless core masks what contains it.
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

/**
 * Removes credentials from `text` as core's `redact` does. Core sees the last "@" of a URL as the
 * end of its user info, so `sqs://us-east-1?endpoint=http://user:pass@host:4566` would become
 * `sqs://***@host:4566`: region and endpoint gone. Such a URL is redacted part by part instead
 * (`sqs://us-east-1?endpoint=http://user:***@host:4566`), and only where the part before its query
 * plainly holds no user info; anything else is left to core whole.
 */
export function redactText(text: string): string {
  const tokens: string[] = [];
  const withPlaceholders = text.replace(URL_TOKEN, (token) => {
    const question = token.indexOf('?');
    if (question < 0 || !QUERY_URL.test(token.slice(question))) return token;
    if (!PLAIN_HEAD.test(token.slice(0, question))) return token;
    tokens.push(redactQuery(token, question));
    return `\uE000${tokens.length - 1}\uE001`;
  });
  if (tokens.length === 0) return redact(text);
  // Core still redacts around each URL (a `password=` in front of one masks it whole, placeholder
  // included); what survives is put back in its redacted form.
  return redact(withPlaceholders).replace(
    PLACEHOLDER,
    (_match, index: string) => tokens[Number(index)] ?? '***',
  );
}

/** The head as it is, then each `key=value` of the query (and the fragment) redacted alone. */
function redactQuery(token: string, question: number): string {
  const hash = token.indexOf('#', question);
  const query = token.slice(question + 1, hash < 0 ? undefined : hash);
  const fragment = hash < 0 ? '' : `#${redact(token.slice(hash + 1))}`;
  const pairs = query.split('&').map((pair) => redactText(pair));
  return `${token.slice(0, question)}?${pairs.join('&')}${fragment}`;
}
