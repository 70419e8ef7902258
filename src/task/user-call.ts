/**
 * Calls of a user function from the operator chain (map, filter, flatMap, reduce, sink
 * functions), kept out of line: V8 compiles the user function on its own and the chain
 * calls it, instead of inlining it into the chain's code.
 *
 * Why. A chain is `ChainOperator.collect` -> `process` -> user function -> `emit` ->
 * the next operator's `collect`, and the same `collect` serves every operator class, so
 * TurboFan inlines it into itself with polymorphic `process` dispatch, and inlined the user
 * function into that. A user function with a hot inner loop then ran 45 % slower: in the
 * chain's code the register allocator kept the loop's variable in a stack slot (a store
 * and two loads per round, on the loop's critical path), where the function compiled on
 * its own keeps it in a register. The engine benchmark's 20 µs integer-hashing map cost
 * 29 µs of CPU per record in a subtask and 20.4-21.2 µs with the call out of line
 * (native-notes §4). A cheap function pays one real call instead (a few ns per record).
 * The function is called without a receiver (`this` is undefined in it; rich functions
 * are already bound to their object by `normalizeFunction`).
 *
 * How. The call goes through one site per arity, and V8 inlines a call only when the site
 * has always called the same function (monomorphic call feedback; a call site has no
 * polymorphic state: its second target makes it megamorphic, for good). The sites are
 * shown several functions when this module loads and again when an operator is made, so a
 * job with one user function still finds them megamorphic. This relies on V8's call
 * feedback, not on any language guarantee: if V8 changes, the functions stay correct and
 * only the speed changes, which bench/engine.bench.ts (section cpu-map) measures.
 */

/** `fn(a)`, called out of line. Any throw passes through. */
export function callUser1<A, R>(fn: (a: A) => R, a: A): R {
  return fn(a);
}

/** `fn(a, b)`, called out of line. Any throw passes through. */
export function callUser2<A, B, R>(fn: (a: A, b: B) => R, a: A, b: B): R {
  return fn(a, b);
}

/**
 * Calls per warming function: more than V8 needs before a function gets a feedback vector
 * (about 8 calls' worth of its bytecode in Node 20: `--interrupt-budget-factor-for-feedback-allocation`),
 * so that the calls are recorded.
 */
const warmingCallsPerFunction = 32;

/** Distinct functions (distinct closures of distinct code) that make the sites megamorphic. */
const warmingFunctions: readonly ((a: number, b?: number) => number)[] = [(a) => a + 1, (a, b) => a - (b ?? 0), (a) => a * 2, (a, b) => a ^ (b ?? 0)];

/**
 * Makes the call sites of `callUser1` and `callUser2` megamorphic (see the module comment).
 * Idempotent and cheap (about 250 trivial calls); called when an operator is made, so that
 * feedback dropped by bytecode flushing in a long-idle worker thread is back before the
 * first record.
 */
export function keepUserCallsOutOfLine(): void {
  let sink = 0;
  for (let k = 0; k < warmingCallsPerFunction; k++) {
    for (const f of warmingFunctions) sink += callUser1(f, k) + callUser2(f, k, 1);
  }
  if (!Number.isFinite(sink)) throw new Error('unreachable: the warming functions return integers');
}

keepUserCallsOutOfLine();
