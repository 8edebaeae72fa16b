/**
 * `npm run soak -- [adapter ...] [--messages N | --quick] [--scenario NAME ...]`
 *
 * Sends sequence-numbered messages through each adapter on private brokers (memory needs none)
 * under one fault per scenario, and prints per scenario: sent, handled, lost (must be 0),
 * duplicated, dead-lettered and recovery time, as a table and as one `SOAK {json}` line each.
 * Exits non-zero if any scenario lost a message or failed to run.
 */
import process from 'node:process';
import { parseArgs } from 'node:util';
import { formatTable } from './format-table.ts';
import { runScenario, type ScenarioReport } from './run-scenario.ts';
import { isScenarioName, SCENARIO_NAMES, type ScenarioName } from './scenario-name.ts';
import { soakTargets } from './soak-target.ts';

const usage = `usage: npm run soak -- [adapter ...] [options]

  adapter              memory, redis, rabbitmq (default: all three)
  --messages N         messages per scenario (default 10000)
  --quick              500 messages per scenario, for CI
  --scenario NAME      only this scenario (repeatable): ${SCENARIO_NAMES.join(', ')}
  --idle-timeout-ms N  give up on stragglers after this long without progress (default 25000)
  --help`;

/** Prefix of the machine-readable lines: `npm run soak | grep '^SOAK ' | cut -c6-`. */
const SOAK_LINE_PREFIX = 'SOAK ';

function count(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(number) || number <= 0) {
    throw new Error(`--${option} must be a positive integer, got ${value}`);
  }
  return number;
}

function cell(value: number | undefined): string {
  if (value === undefined) return '–';
  return value.toLocaleString('en-US');
}

function recovery(ms: number | undefined): string {
  if (ms === undefined) return '–';
  if (!Number.isFinite(ms)) return 'never';
  return ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function describe(report: ScenarioReport): string {
  if (report.status === 'n/a') return `n/a: ${report.note}`;
  if (report.status === 'error') return `ERROR: ${report.note}`;
  if (report.status === 'lost') return `LOST ${report.lost}`;
  return 'ok';
}

function soakLine(report: ScenarioReport): string {
  const recoveryMs =
    report.recoveryMs === undefined || !Number.isFinite(report.recoveryMs)
      ? null
      : Math.round(report.recoveryMs);
  return (
    SOAK_LINE_PREFIX +
    JSON.stringify({ ...report, recoveryMs, node: process.version, at: new Date().toISOString() })
  );
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      messages: { type: 'string' },
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      'idle-timeout-ms': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const targets = soakTargets();
  const named = positionals.length > 0;
  const adapters = named ? positionals : Object.keys(targets);
  for (const adapter of adapters) {
    if (targets[adapter] === undefined) {
      throw new Error(`unknown adapter "${adapter}"; known: ${Object.keys(targets).join(', ')}`);
    }
  }
  const scenarios: ScenarioName[] = [];
  for (const name of values.scenario ?? SCENARIO_NAMES) {
    if (!isScenarioName(name)) {
      throw new Error(`unknown scenario "${name}"; known: ${SCENARIO_NAMES.join(', ')}`);
    }
    scenarios.push(name);
  }
  const messages = count(values.messages, 'messages', values.quick ? 500 : 10_000);
  const idleTimeoutMs = count(values['idle-timeout-ms'], 'idle-timeout-ms', 25_000);

  console.log(
    `soak: ${adapters.join(', ')} · ${messages.toLocaleString('en-US')} messages per scenario · Node ${process.version}`,
  );
  const reports: ScenarioReport[] = [];
  const record = (report: ScenarioReport) => {
    reports.push(report);
    console.log(`[soak] ${report.adapter}/${report.scenario}: ${describe(report)}`);
    console.log(soakLine(report));
  };

  for (const adapter of adapters) {
    const target = targets[adapter]!;
    // Asked for by name (or under OMNIBUS_REQUIRE_BROKERS=1, where `unavailable` throws), a
    // missing broker is an error; in the default set, it's n/a.
    let missing: string | undefined;
    let missingIsError = named;
    try {
      missing = target.unavailable();
    } catch (error) {
      missing = error instanceof Error ? error.message : String(error);
      missingIsError = true;
    }
    try {
      for (const scenario of scenarios) {
        if (missing !== undefined) {
          const status = missingIsError ? 'error' : 'n/a';
          record({ adapter, scenario, messages, status, note: missing });
          continue;
        }
        const notApplicable = target.notApplicable(scenario);
        if (notApplicable !== undefined) {
          record({ adapter, scenario, messages, status: 'n/a', note: notApplicable });
          continue;
        }
        console.log(`[soak] ${adapter}/${scenario}: running`);
        let report: ScenarioReport;
        try {
          const environment = await target.prepare(scenario);
          try {
            report = await runScenario(adapter, scenario, environment, {
              messages,
              idleTimeoutMs,
            });
          } finally {
            await environment.release();
          }
        } catch (error) {
          report = {
            adapter,
            scenario,
            messages,
            status: 'error',
            note: error instanceof Error ? error.message : String(error),
          };
        }
        record(report);
      }
    } finally {
      await target.close();
    }
  }

  const header = [
    'adapter',
    'scenario',
    'sent',
    'handled',
    'lost',
    'wiped¹',
    'duplicated',
    'dead-lettered',
    'recovery²',
    'took',
    'result',
  ];
  const rows = reports.map((report) => [
    report.adapter,
    report.scenario,
    cell(report.sent),
    cell(report.handled),
    cell(report.lost),
    cell(report.wiped),
    cell(report.duplicated),
    cell(report.deadLettered),
    recovery(report.recoveryMs),
    report.durationMs === undefined ? '–' : `${(report.durationMs / 1000).toFixed(1)} s`,
    describe(report),
  ]);
  console.log(`\n${formatTable(header, rows, new Set([2, 3, 4, 5, 6, 7, 8, 9]))}`);
  console.log(
    '\n¹ resolved before a restart of a broker that keeps nothing on disk, never handled: gone with its memory, not counted as lost' +
      '\n² worst over the faults: from the end of the fault (broker back, connections cut, process dead, stop() resolved)' +
      '\n  until the first message sent after that is handled',
  );
  const failed = reports.filter((report) => report.status === 'lost' || report.status === 'error');
  if (failed.length > 0) {
    console.log(`\nsoak FAILED: ${failed.map((r) => `${r.adapter}/${r.scenario}`).join(', ')}`);
    return 1;
  }
  console.log('\nsoak passed: nothing lost');
  return 0;
}

// Ctrl-C must still end the private brokers: their exit hooks run on process.exit, not on a signal.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    console.error(usage);
    process.exit(2);
  },
);
