// A set of header field names, matched ASCII case-insensitively without allocating: the names are
// lower-cased once and grouped by length, so a lookup compares char codes against the few names of
// that length and never makes a lower-cased copy of the name it is asked about. Field names are
// tokens (ASCII only: the parser and the config check them), so ASCII folding is their whole case.
import { equalsLower } from './field-syntax.ts';

export class FieldNameSet {
  private readonly byLength: Array<string[] | undefined> = [];
  readonly size: number;

  constructor(names: Iterable<string>) {
    let size = 0;
    for (const name of names) {
      const lower = name.toLowerCase();
      let group = this.byLength[lower.length];
      if (group === undefined) {
        group = [];
        this.byLength[lower.length] = group;
      }
      if (group.includes(lower)) continue;
      group.push(lower);
      size++;
    }
    this.size = size;
  }

  has(name: string): boolean {
    const group = this.byLength[name.length];
    if (group === undefined) return false;
    for (let i = 0; i < group.length; i++) if (equalsLower(name, group[i] as string)) return true;
    return false;
  }
}

/** Removes the fields of a flat [name, value, ...] list whose name is in `names`, in place. */
export function removeFieldsNamed(list: string[], names: FieldNameSet): void {
  let w = 0;
  for (let r = 0; r + 1 < list.length; r += 2) {
    const name = list[r] as string;
    if (names.has(name)) continue;
    list[w++] = name;
    list[w++] = list[r + 1] as string;
  }
  list.length = w;
}
