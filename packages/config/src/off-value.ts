// Goma reads its file into Go structs, where a key that holds its type's zero value is the same as
// a key that is absent: `cors: {}`, `filePath: ''`, `middlewares: []`, `maintenance: {enabled:
// false}`. Gatehouse reads those the same way, so that a Goma file that spells out its defaults is
// neither refused nor warned about for features it does not use.

/** true for `null`, `false`, `0`, `''`, `[]`, `{}`, a map with `enabled: false`, or a map of such values. */
export function isOffValue(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') {
    const map = value as Record<string, unknown>;
    if (map.enabled === false) return true;
    return Object.values(map).every(isOffValue);
  }
  return false;
}
