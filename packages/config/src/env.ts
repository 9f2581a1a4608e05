// `${NAME}` and `${NAME:-default}` in scalar values, as a shell does it. `$${` escapes a literal `${`.

export type EnvExpansion = { ok: true; value: string; expanded: boolean } | { ok: false; name: string; index: number };

const reference = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces every reference; an unset variable without a default fails at its offset in `text`. */
export function expandEnv(text: string, env: Record<string, string | undefined>): EnvExpansion {
  if (!text.includes('${')) return { ok: true, value: text, expanded: false };
  let missing: { name: string; index: number } | null = null;
  const value = text.replace(
    reference,
    (match: string, name: string | undefined, fallback: string | undefined, index: number) => {
      if (name === undefined) return '${';
      const set = env[name];
      if (set !== undefined && set !== '') return set;
      if (fallback !== undefined) return fallback;
      if (set !== undefined) return set;
      missing ??= { name, index };
      return match;
    },
  );
  if (missing) return { ok: false, ...(missing as { name: string; index: number }) };
  return { ok: true, value, expanded: true };
}
