// Which pass-through listeners a new generation keeps, opens and closes. A listener is known by
// protocol, interface and port: as long as those stay, its socket and its connections stay, and a
// changed target or dial timeout only reaches connections opened after the commit.
import type { PassThroughForward } from '@gatehouse/config';

/** `tcp 127.0.0.1:2222`, `udp :53`: the identity of one listening socket. */
export function forwardKey(forward: Pick<PassThroughForward, 'protocol' | 'host' | 'port'>): string {
  const host = forward.host.includes(':') ? `[${forward.host}]` : forward.host;
  return `${forward.protocol} ${host}:${forward.port}`;
}

export interface ForwardSetChange {
  /** Listening now and in the next generation; the forward is the next generation's (maybe retargeted). */
  keep: PassThroughForward[];
  /** Not listening yet: bound on prepare. */
  open: PassThroughForward[];
  /** Keys listening now that the next generation does not have: closed on commit. */
  close: string[];
}

export function diffForwards(listening: ReadonlySet<string>, next: readonly PassThroughForward[]): ForwardSetChange {
  const keep: PassThroughForward[] = [];
  const open: PassThroughForward[] = [];
  const wanted = new Set<string>();
  for (const forward of next) {
    const key = forwardKey(forward);
    wanted.add(key);
    (listening.has(key) ? keep : open).push(forward);
  }
  const close = [...listening].filter((key) => !wanted.has(key));
  return { keep, open, close };
}
