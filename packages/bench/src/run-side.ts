/**
 * Child-process entry: runs one side of one scenario once (after an unmeasured warm-up) and sends
 * its measurement and peak RSS to the harness over IPC. One process per run keeps the sides from
 * sharing a heap, a JIT state or a peak RSS.
 *
 *   node run-side.ts <scenarios file> <scenario name> <omnibus|baseline> <messages> <warm-up messages>
 */
import { randomBytes } from 'node:crypto';
import { loadBenchModule } from './discover.ts';
import { peakRssMiB } from './measure.ts';
import type { BenchSide, Measurement, RunContext } from './scenario.ts';

/** What a child sends back to the harness: the measurement (API calls included) and peak RSS. */
export interface SideReport extends Measurement {
  readonly peakRssMiB: number;
}

export function isSideName(value: string | undefined): value is 'omnibus' | 'baseline' {
  return value === 'omnibus' || value === 'baseline';
}

function newRunId(phase: RunContext['phase']): string {
  return `b${randomBytes(4).toString('hex')}${phase === 'warmup' ? 'w' : 'm'}`;
}

async function main(): Promise<void> {
  const [file, name, sideName, messagesArgument, warmupArgument] = process.argv.slice(2);
  if (file === undefined || name === undefined || !isSideName(sideName)) {
    throw new Error('usage: run-side.ts <file> <scenario> <omnibus|baseline> <messages> <warmup>');
  }
  const messages = Number(messagesArgument);
  const warmupMessages = Number(warmupArgument);
  const module = await loadBenchModule(file);
  const scenario = module.scenarios.find((candidate) => candidate.name === name);
  if (scenario === undefined) throw new Error(`${file} has no scenario named ${name}`);
  const side: BenchSide = scenario[sideName];

  if (warmupMessages > 0) {
    await side.run({ messages: warmupMessages, phase: 'warmup', runId: newRunId('warmup') });
  }
  const measurement = await side.run({ messages, phase: 'measured', runId: newRunId('measured') });
  if (measurement.messages !== messages) {
    throw new Error(
      `${name} (${sideName}) reported ${measurement.messages} messages instead of ${messages}`,
    );
  }
  const report: SideReport = { ...measurement, peakRssMiB: peakRssMiB() };
  if (process.send === undefined) {
    console.log(JSON.stringify(report));
    return;
  }
  // Exit once the report is out, even if the scenario left a handle (socket, timer) open.
  process.send(report, () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
