// The response side of the middleware chain. A step that shapes responses (responseHeaders, CORS)
// or replaces error bodies (errorInterceptor) registers itself on the request when the chain
// reaches it; the forwarder then applies it to the backend's answer, and refusal.ts to the
// gateway's own answers, so a security header or a CORS grant is on every response of the route.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** The part of a request the response phase reads (RequestState implements it). */
export interface ShapedRequest {
  readonly req: { readonly headers: IncomingHttpHeaders };
  responseShapers: ResponseShaper[] | null;
  errorReplacer: ErrorReplacer | null;
}

/** A step that edits the response head in place, as a flat [name, value, ...] list. */
export interface ResponseShaper {
  shapeResponse(r: ShapedRequest, status: number, head: string[]): void;
}

export interface ErrorReplacement {
  /** null: the gateway's own error body for the status. */
  readonly body: string | null;
  readonly contentType: string;
}

/** A step that replaces the body of error answers. */
export interface ErrorReplacer {
  /** The replacement for this answer, or null to let it through untouched. */
  replacement(status: number, contentLength: number | null, chunked: boolean): ErrorReplacement | null;
}

/** Runs the request's shapers over a flat head. */
export function shapeHead(r: ShapedRequest, status: number, head: string[]): void {
  const shapers = r.responseShapers;
  if (shapers === null) return;
  for (let i = 0; i < shapers.length; i++) (shapers[i] as ResponseShaper).shapeResponse(r, status, head);
}

/** A header object as a flat list (multi-valued fields become several entries). */
export function flatten(headers: OutgoingHttpHeaders | IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, String(v));
    else out.push(name, String(value));
  }
  return out;
}

/** Replaces the content of a header object with a flat list (lower-case names, Set-Cookie as a list). */
export function assignFlat(headers: Record<string, unknown>, list: readonly string[]): void {
  for (const name of Object.keys(headers)) delete headers[name];
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    const value = list[i + 1] as string;
    const existing = headers[name];
    if (existing === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[name] = `${existing as string}, ${value}`;
  }
}

/** Runs the request's shapers over a header object (HTTP/2 answers, the gateway's own answers). */
export function shapeHeaderObject(r: ShapedRequest, status: number, headers: Record<string, unknown>): void {
  if (r.responseShapers === null) return;
  const list = flatten(headers as OutgoingHttpHeaders);
  shapeHead(r, status, list);
  assignFlat(headers, list);
}
