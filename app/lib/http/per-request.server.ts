/** `compute`, run once per key object (a Request, or Remix's one `context` per HTTP request); later calls share it. */
export function perRequest<A extends [unknown, ...unknown[]], T>(
  keyOf: (first: A[0]) => object,
  compute: (...args: A) => T,
): (...args: A) => T {
  const results = new WeakMap<object, T>();
  return (...args) => {
    const key = keyOf(args[0]);
    if (!results.has(key)) results.set(key, compute(...args));
    return results.get(key) as T;
  };
}
