import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchModule, BenchScenario } from './scenario.ts';

/** The monorepo's root, three levels above this file (packages/bench/src). */
export const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** An adapter that ships `bench/scenarios.ts`. */
export interface AdapterBench {
  /** Folder name under `adapters/`, which is also the name given on the command line. */
  readonly adapter: string;
  readonly file: string;
}

/** Every `adapters/<name>/bench/scenarios.ts`, sorted by adapter name. */
export function discoverAdapters(root = repositoryRoot): AdapterBench[] {
  const adaptersDirectory = join(root, 'adapters');
  if (!existsSync(adaptersDirectory)) return [];
  return readdirSync(adaptersDirectory, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({
      adapter: entry.name,
      file: join(adaptersDirectory, entry.name, 'bench', 'scenarios.ts'),
    }))
    .filter((bench) => existsSync(bench.file))
    .sort((a, b) => a.adapter.localeCompare(b.adapter));
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
