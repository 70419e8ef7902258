/**
 * Jobs cross threads as modules: a job module's default export is `defineJob(build)`. The
 * main thread imports it to plan; every worker imports the same module and rebuilds the
 * same plan, then runs its subtask's operators. `build` must therefore be deterministic and
 * must not depend on main-thread values.
 */
import type { StreamExecutionEnvironment } from './environment.js';

/** The job's build function: adds sources, operators and sinks to `env`. */
export type JobBuilder = (env: StreamExecutionEnvironment, args: readonly string[]) => void;

/** Marks a job definition; `Symbol.for` so that it survives two copies of the library. */
export const jobDefinitionTag = Symbol.for('sluicegate.jobDefinition');

export interface JobDefinition {
  readonly [jobDefinitionTag]: true;
  readonly build: JobBuilder;
}

/** Declares a job. Use as `export default defineJob((env, args) => { ... })`. */
export function defineJob(build: JobBuilder): JobDefinition {
  if (typeof build !== 'function') {
    throw new TypeError('defineJob() expects a function (env, args) => { ... }');
  }
  return { [jobDefinitionTag]: true, build };
}

export function isJobDefinition(value: unknown): value is JobDefinition {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as Record<symbol, unknown>)[jobDefinitionTag] === true &&
    typeof (value as { build?: unknown }).build === 'function'
  );
}
