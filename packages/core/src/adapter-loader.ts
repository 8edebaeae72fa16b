/** Loads the adapter package a URL scheme needs, and says exactly which package is missing when it can't. */
import type { AdapterModule } from './driver.js';
import { ConfigError } from './errors.js';

/** Imports a module by specifier; core's is plain `import()`, tests pass one rooted elsewhere. */
export type ImportModule = (specifier: string, options?: ImportCallOptions) => Promise<unknown>;

const importModule: ImportModule = (specifier, options) => import(specifier, options);

/**
 * Imports an adapter package and returns its `fromUrl`. When the import fails for a missing
 * package, the error names the package actually missing: the adapter itself, or a package the
 * adapter needs (`ioredis` for `@omnibus/redis`, called its peer dependency when the adapter's
 * package.json says so), or a file of the adapter (a workspace package not built yet).
 */
export async function loadAdapter(
  packageName: string,
  scheme: string,
  importer: ImportModule = importModule,
): Promise<AdapterModule> {
  let module: Partial<AdapterModule> & { default?: Partial<AdapterModule> };
  try {
    module = (await importer(packageName)) as typeof module;
  } catch (error) {
    throw await loadFailure(error, packageName, scheme, importer);
  }
  const fromUrl = module.fromUrl ?? module.default?.fromUrl;
  if (typeof fromUrl !== 'function')
    throw new ConfigError(`${packageName} does not export fromUrl(url); is it an Omnibus adapter?`);
  return { fromUrl };
}

// Node's wording, ESM and CommonJS: "Cannot find package 'ioredis' imported from /…/dist/x.js",
// "Cannot find module '/…/dist/index.js' imported from …", "Cannot find module 'ioredis'".
const NOT_FOUND = /Cannot find (?:package|module) '([^']+)'/;

async function loadFailure(
  error: unknown,
  packageName: string,
  scheme: string,
  importer: ImportModule,
): Promise<ConfigError> {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const missing = NOT_FOUND.exec(message)?.[1];
  if ((code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') || missing === undefined) {
    return new ConfigError(`${packageName} failed to load: ${message}`, { cause: error });
  }
  if (isPath(missing)) {
    return new ConfigError(
      `${packageName} is installed but its file ${missing} is missing; ` +
        'if it is a package of your workspace, build it first (npm run build)',
      { cause: error },
    );
  }
  const dependency = packageOf(missing);
  if (dependency === packageName) {
    return new ConfigError(
      `"${scheme}" URLs need the ${packageName} package: npm install ${packageName}`,
      { cause: error },
    );
  }
  const role = (await isPeerDependency(packageName, dependency, importer))
    ? 'its peer dependency'
    : 'a package it needs';
  return new ConfigError(
    `${packageName} is installed, but ${dependency}, ${role}, is not: npm install ${dependency}`,
    { cause: error },
  );
}

async function isPeerDependency(
  packageName: string,
  dependency: string,
  importer: ImportModule,
): Promise<boolean> {
  try {
    const manifest = (await importer(`${packageName}/package.json`, {
      with: { type: 'json' },
    })) as { default?: { peerDependencies?: Record<string, unknown> } };
    return Object.hasOwn(manifest.default?.peerDependencies ?? {}, dependency);
  } catch {
    return false;
  }
}

function isPath(specifier: string): boolean {
  return /^(?:[./\\]|file:|[A-Za-z]:[\\/])/.test(specifier);
}

/** `ioredis/built/x` → `ioredis`; `@aws-sdk/client-sqs/dist` → `@aws-sdk/client-sqs`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}
