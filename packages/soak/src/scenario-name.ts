// The soak's scenarios, by the names the command line and the SOAK lines use.

/** Every scenario, in the order they run. */
export const SCENARIO_NAMES = [
  'handler-failures',
  'consumer-sigkill',
  'connection-kills',
  'restart-persistent',
  'restart-not-persistent',
  'stop-under-load',
] as const;

/** One scenario's name. */
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Whether `name` is a scenario's name. */
export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}
