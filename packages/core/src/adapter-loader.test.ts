/** Tests for loadAdapter(): a missing adapter, a missing peer of an installed adapter, an unbuilt adapter. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImportModule, loadAdapter } from './adapter-loader.js';
import { OmnibusError } from './errors.js';

// A project of its own in a temp folder, with adapter packages in its node_modules, and an
// importer that resolves from there as Node would for that project: the errors are Node's own.
let project: string;
let importFromProject: ImportModule;

async function writePackage(name: string, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    const path = join(project, 'node_modules', name, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}

function manifest(name: string, extra: Record<string, unknown>): string {
  return JSON.stringify({
    name,
    type: 'module',
    exports: { '.': './dist/index.js', './package.json': './package.json' },
    ...extra,
  });
}

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'omnibus-loader-'));
  const require = createRequire(join(project, 'index.js'));
  importFromProject = async (specifier, options) =>
    import(pathToFileURL(require.resolve(specifier)).href, options);
  const adapter = 'export function fromUrl() { return {}; }';
  await writePackage('@omnibus/fake-peer', {
    'package.json': manifest('@omnibus/fake-peer', {
      peerDependencies: { 'omnibus-test-missing-client': '^1.0.0' },
    }),
    'dist/index.js': `import 'omnibus-test-missing-client/sub/path.js';\n${adapter}`,
  });
  await writePackage('@omnibus/fake-dependency', {
    'package.json': manifest('@omnibus/fake-dependency', {
      dependencies: { '@omnibus-test/missing-sdk': '^1.0.0' },
    }),
    'dist/index.js': `import '@omnibus-test/missing-sdk';\n${adapter}`,
  });
  await writePackage('@omnibus/fake-unbuilt', {
    'package.json': manifest('@omnibus/fake-unbuilt', {}),
    'dist/index.js': `import './driver.js';\n${adapter}`,
  });
  await writePackage('@omnibus/fake-ok', {
    'package.json': manifest('@omnibus/fake-ok', {}),
    'dist/index.js': adapter,
  });
});

afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

async function loadFailure(packageName: string): Promise<OmnibusError> {
  try {
    await loadAdapter(packageName, 'fake:', importFromProject);
  } catch (error) {
    if (OmnibusError.isInstance(error)) return error;
    throw error;
  }
  throw new Error(`${packageName} loaded`);
}

describe('loadAdapter', () => {
  it('loads an adapter and returns its fromUrl', async () => {
    const adapter = await loadAdapter('@omnibus/fake-ok', 'fake:', importFromProject);
    expect(typeof adapter.fromUrl).toBe('function');
  });
  it('names the adapter package when the adapter itself is missing', async () => {
    const error = await loadFailure('@omnibus/fake-absent');
    expect(error.code).toBe('Config');
    expect(error.message).toBe(
      '"fake:" URLs need the @omnibus/fake-absent package: npm install @omnibus/fake-absent',
    );
  });
  it('names the missing peer dependency of an installed adapter, not the adapter', async () => {
    const error = await loadFailure('@omnibus/fake-peer');
    expect(error.code).toBe('Config');
    expect(error.message).toBe(
      '@omnibus/fake-peer is installed, but omnibus-test-missing-client, its peer dependency, is not: ' +
        'npm install omnibus-test-missing-client',
    );
  });
  it('names a missing scoped package the adapter needs, without calling it a peer', async () => {
    const error = await loadFailure('@omnibus/fake-dependency');
    expect(error.message).toBe(
      '@omnibus/fake-dependency is installed, but @omnibus-test/missing-sdk, a package it needs, is not: ' +
        'npm install @omnibus-test/missing-sdk',
    );
  });
  it('says an adapter whose own file is missing needs building', async () => {
    const error = await loadFailure('@omnibus/fake-unbuilt');
    expect(error.message).toMatch(
      /^@omnibus\/fake-unbuilt is installed but its file .*driver\.js is missing; if it is a package of your workspace, build it first/,
    );
  });
  it('names the real missing package with the real importer too', async () => {
    const error = await loadAdapter('@omnibus/not-an-adapter-xyz', 'xyz:').catch((e: unknown) => e);
    expect((error as Error).message).toContain('npm install @omnibus/not-an-adapter-xyz');
  });
});
