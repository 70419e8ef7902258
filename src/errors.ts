/**
 * Error types shared by the main thread and the workers.
 *
 * `userError: true` marks mistakes the user can fix (a bad path, a bad option, a job
 * module without `defineJob`): the CLI prints their one-line message and exits 2, without
 * a stack trace. Other errors are engine or user-function failures and keep their stack.
 * The same mark makes a failure non-recoverable: no restart can fix it (see findUserError).
 */

/** A mistake in how the job or engine was called. Exit code 2 in the CLI. */
export class UsageError extends Error {
  readonly userError = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** Longest cause chain findUserError follows (chains may loop). */
const causeDepthMax = 32;

/**
 * The first error in `thrown`'s cause chain (`thrown`, its `cause`, that one's `cause`, ...)
 * marked `userError: true`: a UsageError, or an error of any class that sets the field
 * (`class BadConfig extends Error { readonly userError = true }`). Undefined when there is
 * none. Such a failure is non-recoverable: a restart would meet it again (a bad path, a
 * sink's refused configuration, an async user function), so the job fails at once,
 * whatever the restart strategy, and the CLI exits 2 with its message. This is Flink's
 * ThrowableClassifier looking for a `ThrowableType.NonRecoverableError` in the chain.
 * Duck-typed, so a UsageError from another copy of sluicegate counts too.
 */
export function findUserError(thrown: unknown): Error | undefined {
  let current = thrown;
  for (let depth = 0; depth < causeDepthMax && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof UsageError || (current as { userError?: unknown }).userError === true) return current as Error;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Details of a user function's failure, sent from a worker as plain data. */
export interface UserFunctionFailure {
  operatorName: string;
  operatorUid: string;
  subtaskIndex: number;
  parallelism: number;
  /** Where the record came from, e.g. `file a.txt line 17` or `input record 5120`. */
  position: string | undefined;
  /** A short rendering of the record, at most about 80 characters. */
  record: string | undefined;
  causeName: string;
  causeMessage: string;
  causeStack: string | undefined;
}

/**
 * A user function threw. The message names the operator, the subtask (1-based, as Flink
 * shows it), the record and its position; `stack` ends with the original stack.
 */
export class UserFunctionError extends Error {
  constructor(readonly failure: UserFunctionFailure) {
    super(describeFailure(failure));
    this.name = 'UserFunctionError';
    this.stack = `${this.name}: ${this.message}\nCaused by: ${failure.causeStack ?? `${failure.causeName}: ${failure.causeMessage}`}`;
  }
}

function describeFailure(f: UserFunctionFailure): string {
  const where = f.position === undefined ? '' : ` (${f.position})`;
  const record = f.record === undefined ? '' : ` on record ${f.record}`;
  return `Operator "${f.operatorName}" (uid ${f.operatorUid}) failed in subtask ${f.subtaskIndex + 1}/${f.parallelism}${record}${where}: ${f.causeName}: ${f.causeMessage}`;
}

/** JSON.stringify would show a bigint as a throw and NaN, ±Infinity as null: show them as they are. */
const previewValue = (_key: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);

/** A short, single-line rendering of a record for error messages. */
export function previewRecord(record: unknown, maxChars = 80): string {
  let text: string;
  try {
    text = typeof record === 'string' ? JSON.stringify(record) : (JSON.stringify(record, previewValue) ?? String(record));
  } catch {
    text = String(record);
  }
  return text.length > maxChars ? `${text.slice(0, maxChars - 3)}...` : text;
}

/**
 * tsx runs a CommonJS-style TypeScript module from a `data:` URL that holds the whole
 * compiled source; stack frames show its `filePath` instead.
 */
export function cleanStack(stack: string | undefined): string | undefined {
  return stack?.replace(/data:text\/javascript,.*?\?filePath=([^\s):]+)/g, (_m, path: string) => decodeURIComponent(path).replace(/\?namespace=.*$/, ''));
}

/** Turns any thrown value into name, message and stack. */
export function describeThrown(thrown: unknown): { name: string; message: string; stack: string | undefined } {
  if (thrown instanceof Error) return { name: thrown.name, message: thrown.message, stack: cleanStack(thrown.stack) };
  return { name: 'Error', message: String(thrown), stack: undefined };
}

/**
 * Refuses what a synchronous user function returned when it is a Promise (or any
 * thenable): an `async` map would emit a pending Promise (`{}` after encoding) and a
 * `process` would emit after its record, so the job must fail at once, never run on.
 * The Promise gets a no-op rejection handler, so its own failure cannot crash the worker.
 * @throws UsageError naming the operator and the function, not restarted (no restart fixes it).
 */
export function refuseAsyncResult(result: unknown, operatorName: string, method: string): void {
  if (result === null || (typeof result !== 'object' && typeof result !== 'function')) return;
  const then = (result as { then?: unknown }).then;
  if (typeof then !== 'function') return;
  then.call(result, undefined, () => {});
  throw new UsageError(
    `${method} of "${operatorName}" returned a Promise: this operator runs functions synchronously and has no async I/O; make ${method} synchronous (do the I/O in a source, a sink or open())`,
  );
}

