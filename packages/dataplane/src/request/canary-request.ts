// A request as canary conditions read it (upstream/canary.ts): one header, one query parameter, one
// cookie, or the client address (X-Forwarded-For believed only from trusted proxies). Each is read
// when a condition asks for it; absent values are the empty string, as in Goma.
import type { CanaryRequest } from '../upstream/canary.ts';
import type { RequestState } from './request-state.ts';

function first(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : (value[0] ?? '');
}

export class CanaryRequestView implements CanaryRequest {
  private readonly state: RequestState;
  private params: URLSearchParams | null = null;

  constructor(state: RequestState) {
    this.state = state;
  }

  header(name: string): string {
    return first(this.state.req.headers[name]);
  }

  query(name: string): string {
    if (this.params === null) {
      const target = this.state.target;
      const q = target.indexOf('?');
      this.params = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
    }
    return this.params.get(name) ?? '';
  }

  cookie(name: string): string {
    const header = this.state.req.headers.cookie;
    if (header === undefined) return '';
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
    }
    return '';
  }

  clientAddress(): string {
    return this.state.clientAddress();
  }
}
