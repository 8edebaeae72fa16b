import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchModule, BenchScenario } from './scenario.ts';

/** The monorepo's root, three levels above this file (packages/bench/src). */
export const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** An adapter that ships `bench/scenarios.ts`. */
export interface AdapterBench {
  /** Folder name under `adapters/` (or the `<name>` of `src/<name>.scenarios.ts`), which is also the name given on the command line. */
  readonly adapter: string;
  readonly file: string;
}

/** The suffix of a scenarios file kept in this package: `src/<adapter>.scenarios.ts`. */
const OWN_SCENARIOS_SUFFIX = '.scenarios.ts';

/**
 * Every `adapters/<name>/bench/scenarios.ts`, and every `packages/bench/src/<name>.scenarios.ts`
 * (benchmarks kept here rather than in the adapter, e.g. because they need an emulator and peer
 * libraries the adapter shouldn't depend on), sorted by adapter name. An adapter may have both:
 * then it has two entries with the same name.
 */
export function discoverAdapters(root = repositoryRoot): AdapterBench[] {
  const found: AdapterBench[] = [];
  const adaptersDirectory = join(root, 'adapters');
  if (existsSync(adaptersDirectory)) {
    for (const entry of readdirSync(adaptersDirectory, { withFileTypes: true })) {
      const file = join(adaptersDirectory, entry.name, 'bench', 'scenarios.ts');
      if (entry.isDirectory() && existsSync(file)) found.push({ adapter: entry.name, file });
    }
  }
  const ownDirectory = join(root, 'packages', 'bench', 'src');
  if (existsSync(ownDirectory)) {
    for (const name of readdirSync(ownDirectory)) {
      if (!name.endsWith(OWN_SCENARIOS_SUFFIX)) continue;
      const adapter = name.slice(0, -OWN_SCENARIOS_SUFFIX.length);
      found.push({ adapter, file: join(ownDirectory, name) });
    }
  }
  return found.sort((a, b) => a.adapter.localeCompare(b.adapter));
}

/** Imports a scenarios file and checks that it has the expected shape. */
export async function loadBenchModule(file: string): Promise<BenchModule> {
  const module = (await import(pathToFileURL(file).href)) as Partial<BenchModule>;
  if (!Array.isArray(module.scenarios)) {
    throw new TypeError(`${file} must export \`scenarios: BenchScenario[]\``);
  }
  for (const scenario of module.scenarios as unknown[]) assertScenario(file, scenario);
  if (module.available !== undefined && typeof module.available !== 'function') {
    throw new TypeError(`${file}: \`available\` must be a function`);
  }
  return module as BenchModule;
}

function assertScenario(file: string, value: unknown): asserts value is BenchScenario {
  const scenario = value as Partial<BenchScenario> | undefined;
  const problem =
    typeof scenario?.name !== 'string'
      ? 'a scenario has no name'
      : !(Number.isInteger(scenario.messages) && scenario.messages! > 0)
        ? `${scenario.name}: messages must be a positive integer`
        : typeof scenario.omnibus?.run !== 'function' ||
            typeof scenario.baseline?.run !== 'function'
          ? `${scenario.name}: omnibus and baseline must each have run()`
          : undefined;
  if (problem !== undefined) throw new TypeError(`${file}: ${problem}`);
}
