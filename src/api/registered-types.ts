/**
 * Registered types: records and state values that keep their class across channels, in
 * keyed state, in checkpoints and in `collect()`. Flink: `env.registerType(Class)` (the
 * POJO serializer: fields copied, no constructor call on the way back) and
 * `registerTypeWithKryoSerializer` (a serializer of the user's own).
 *
 * Every value sluicegate carries goes through cbor-x. Plain objects, arrays, strings,
 * numbers, bigint, booleans, null, undefined, `Date`, `Map`, `Set`, `RegExp`, `Error`,
 * typed arrays, `ArrayBuffer` and `DataView` are carried as they are. An instance of any
 * other class used to arrive as a plain object (its prototype silently lost); now:
 * - a registered class travels as CBOR tag 21324 (0x534C, "SL", not registered with
 *   IANA) holding `[name, fields]` and comes back as an instance of that class;
 * - an unregistered one is refused when it is encoded, with a one-line `UsageError`
 *   naming the class and the fix (the job fails at once, no restart can help).
 * The hook is one cbor-x extension per thread (cbor-x extensions are global to the
 * thread), installed when cbor-x loads (at its first use, ../cbor-x.ts) and before anything
 * encodes with it; every thread that runs the job module runs `defineJob`, so every thread
 * registers the same classes.
 */
import { onCborXLoad } from '../cbor-x.js';
import { UsageError } from '../errors.js';

/** The CBOR tag of a registered class's instance: `[name, fields]`. */
export const registeredTypeTag = 21324;

/** How a registered class is written and read back. Flink: a TypeSerializer of the user's own. */
export interface TypeSerializer<T> {
  /** The value as something cbor-x carries (a plain object, an array, ...). */
  serialize(value: T): unknown;
  /** The instance back from what `serialize` returned. */
  deserialize(data: unknown): T;
}

export interface RegisterTypeOptions<T> {
  /** The name written with each instance; the class's own name by default. Must be unique in the job. */
  name?: string;
  /**
   * Default: the own enumerable fields, and back into an object with the class's
   * prototype without calling the constructor (as Flink's POJO serializer).
   */
  serializer?: TypeSerializer<T>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClass = abstract new (...args: any[]) => unknown;

interface Registration {
  name: string;
  Class: AnyClass;
  serializer: TypeSerializer<unknown>;
}

const byClass = new Map<AnyClass, Registration>();
const byName = new Map<string, Registration>();

/**
 * Registers `Class` so that its instances keep their class in records, state and
 * checkpoints. Call it in `defineJob` (`env.registerType(Class)`), so that every worker
 * registers it. Registering the same class again with the same name does nothing.
 * @throws TypeError if `Class` is not a class, is one sluicegate carries already (Date,
 *   Map, ...), has no name and none is given, or if the name belongs to another class.
 */
export function registerType<T>(Class: abstract new (...args: never[]) => T, options: RegisterTypeOptions<T> = {}): void {
  if (typeof Class !== 'function' || Class.prototype === undefined) {
    throw new TypeError(`registerType() expects a class, got ${typeof Class === 'function' ? 'a function without a prototype' : typeof Class}`);
  }
  const builtIns = [...carriedAsIs, Map, Array, Object];
  if (builtIns.includes(Class as never)) throw new TypeError(`registerType(${Class.name}): ${Class.name} values are carried already; register only classes of your own`);
  const extended = builtIns.find((b) => b !== Object && Class.prototype instanceof b);
  if (extended !== undefined && options.serializer === undefined) {
    throw new TypeError(`registerType(${Class.name}): it extends ${extended.name}, whose contents are not plain fields; pass { serializer } to say how to carry it`);
  }
  const name = options.name ?? Class.name;
  if (typeof name !== 'string' || name === '') throw new TypeError('registerType(): the class has no name; pass { name } (unique in the job)');
  const serializer = (options.serializer ?? fieldsSerializer(Class as unknown as AnyClass)) as TypeSerializer<unknown>;
  if (typeof serializer.serialize !== 'function' || typeof serializer.deserialize !== 'function') {
    throw new TypeError(`registerType(${name}): serializer needs serialize(value) and deserialize(data) functions`);
  }
  const existing = byClass.get(Class as unknown as AnyClass);
  if (existing !== undefined) {
    if (existing.name !== name) throw new TypeError(`registerType(${Class.name}): already registered as '${existing.name}', not '${name}'`);
    existing.serializer = serializer;
    return;
  }
  const other = byName.get(name);
  if (other !== undefined) {
    throw new TypeError(`registerType(${Class.name}): the name '${name}' belongs to another registered class; pass { name } to tell them apart`);
  }
  const registration: Registration = { name, Class: Class as unknown as AnyClass, serializer };
  byClass.set(registration.Class, registration);
  byName.set(name, registration);
}

/** The name a class is registered under, or undefined. */
export function registeredName(Class: AnyClass): string | undefined {
  return byClass.get(Class)?.name;
}

function fieldsSerializer(Class: AnyClass): TypeSerializer<unknown> {
  return {
    serialize: (value) => ({ ...(value as object) }),
    deserialize: (data) => Object.assign(Object.create(Class.prototype as object) as object, data),
  };
}

/**
 * Classes cbor-x carries itself (its own extensions, or plain encodings that keep the type).
 * cbor-x's own `Tag` joins them when cbor-x loads, which is before it encodes anything.
 */
const carriedAsIs: Array<abstract new (...args: never[]) => unknown> = [
  Date,
  Set,
  Error,
  RegExp,
  ArrayBuffer,
  DataView,
  Object.getPrototypeOf(Uint8Array) as abstract new () => unknown, // %TypedArray%
];

/**
 * Matches, through `instanceof`, the objects that cbor-x would otherwise write as plain
 * objects: instances of user classes (registered or not) and built-ins it cannot carry
 * (Promise, WeakMap, boxed primitives...). cbor-x reaches its extension list only for
 * objects whose constructor is not Object, Array or Map.
 */
class NotCarriedAsIs {
  static [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === null || proto === Object.prototype) return false;
    for (const b of carriedAsIs) if (value instanceof b) return false;
    return true;
  }
}

function registrationOf(value: object): Registration {
  const registration = byClass.get(value.constructor as AnyClass);
  if (registration !== undefined) return registration;
  const name = (value.constructor as { name?: string } | undefined)?.name || 'an anonymous class';
  if ((globalThis as Record<string, unknown>)[name] === value.constructor) {
    throw new UsageError(`A ${name} cannot be sent between operators or kept in state: turn it into a plain value first (user functions are synchronous)`);
  }
  throw new UsageError(
    `A value of class ${name} cannot be sent between operators or kept in state: its class would be lost. ` +
      `Call env.registerType(${name}) in defineJob, or use a plain object`,
  );
}

// One extension both ways: cbor-x writes the tag, then `encode` (which throws for an
// unregistered class; the failed encode is discarded whole, and the job ends on it), and
// reads tag 21324 back through `decode`.
onCborXLoad(({ addExtension, Tag }) => {
  carriedAsIs.push(Tag);
  addExtension({
    Class: NotCarriedAsIs as unknown as new () => unknown,
    tag: registeredTypeTag,
    encode(value: object, encode: (v: unknown) => void): void {
      const r = registrationOf(value);
      encode([r.name, r.serializer.serialize(value)]);
    },
    decode: (data: unknown) => decodeRegistered(data),
  } as never); // cbor-x's typings describe an encode that returns bytes; this one writes through `encode`
});

function decodeRegistered(data: unknown): unknown {
  if (!Array.isArray(data) || data.length !== 2 || typeof data[0] !== 'string') {
    throw new TypeError(`A registered-type value (CBOR tag ${registeredTypeTag}) is malformed: expected [name, fields]`);
  }
  const r = byName.get(data[0]);
  if (r === undefined) {
    throw new UsageError(`A value of class ${data[0]} was written by a job that registered it, but this job does not: call env.registerType(${data[0]}) in defineJob`);
  }
  return r.serializer.deserialize(data[1]);
}
