// The UDP sessions of one forward: one entry per client address, bounded in number, dropped once no
// datagram went either way for the idle time. Pure bookkeeping; the sockets live in udp-forward.ts.

export interface IdleTracked {
  /** Time (ms) of the last datagram in either direction. */
  lastSeen: number;
}

export class SessionTable<T extends IdleTracked> {
  private readonly entries = new Map<string, T>();
  maxSessions: number;
  idleMs: number;

  constructor(maxSessions: number, idleMs: number) {
    this.maxSessions = maxSessions;
    this.idleMs = idleMs;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): T | undefined {
    return this.entries.get(key);
  }

  /** False when the table is full: the caller drops the datagram rather than evict a live client. */
  add(key: string, session: T): boolean {
    if (this.entries.size >= this.maxSessions) return false;
    this.entries.set(key, session);
    return true;
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Removes and returns the sessions idle for `idleMs` or longer at `now`. */
  expire(now: number): T[] {
    const expired: T[] = [];
    for (const [key, session] of this.entries) {
      if (now - session.lastSeen >= this.idleMs) {
        this.entries.delete(key);
        expired.push(session);
      }
    }
    return expired;
  }

  /** Removes and returns every session (the forward is closing). */
  clear(): T[] {
    const all = [...this.entries.values()];
    this.entries.clear();
    return all;
  }
}
