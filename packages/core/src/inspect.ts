// What util.inspect and JSON.stringify show of Omnibus objects: names, never the client (which may hold a password).

/** Node's `util.inspect.custom`, without importing `node:util` (browsers and bundlers). */
export const INSPECT: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;
