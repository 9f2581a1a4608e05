// errorInterceptor: replaces the body of a backend error answer whose status the rule lists. Only
// answers that are known to be small (a Content-Length up to the rule's limit, or none at all on a
// bodiless status) are replaced; a larger or streamed one passes through untouched, so the gateway
// never buffers a backend body.
import type { ErrorInterceptorRule } from '@gatehouse/config';
import type { ErrorReplacement, ErrorReplacer } from '../response-phase.ts';
import type { MiddlewareRequest, MiddlewareStep, StepResult } from '../step.ts';

export interface CompiledErrorInterceptor {
  /** By status: the replacement body, or null for Gatehouse's own error body. */
  readonly byStatus: ReadonlyMap<number, string | null>;
  readonly contentType: string;
  readonly maxBodyBytes: number;
}

export function compileErrorInterceptor(rule: ErrorInterceptorRule): CompiledErrorInterceptor {
  const byStatus = new Map<number, string | null>();
  for (const e of rule.errors) byStatus.set(e.statusCode, e.body);
  return { byStatus, contentType: rule.contentType, maxBodyBytes: rule.maxBodyBytes };
}

/**
 * Should this backend answer be replaced? `contentLength` is the backend's Content-Length (null when
 * absent); `chunked` is true when the body is streamed without a length.
 */
export function shouldIntercept(
  c: CompiledErrorInterceptor,
  status: number,
  contentLength: number | null,
  chunked: boolean,
): boolean {
  if (!c.byStatus.has(status)) return false;
  if (chunked) return false;
  return contentLength === null || contentLength <= c.maxBodyBytes;
}

export class ErrorInterceptorStep implements MiddlewareStep, ErrorReplacer {
  readonly name: string;
  readonly type = 'errorInterceptor';
  private readonly rule: CompiledErrorInterceptor;
  private readonly replacements = new Map<number, ErrorReplacement>();
  constructor(name: string, rule: ErrorInterceptorRule) {
    this.name = name;
    this.rule = compileErrorInterceptor(rule);
    for (const [status, body] of this.rule.byStatus) {
      this.replacements.set(status, Object.freeze({ body, contentType: rule.contentType || sniff(body) }));
    }
  }
  onRequest(r: MiddlewareRequest): StepResult {
    if (this.replacements.size > 0) r.replaceErrorsWith(this);
    return null;
  }
  replacement(status: number, contentLength: number | null, chunked: boolean): ErrorReplacement | null {
    if (!shouldIntercept(this.rule, status, contentLength, chunked)) return null;
    return this.replacements.get(status) ?? null;
  }
}

/** The Content-Type of a replacement body without a configured one. */
function sniff(body: string | null): string {
  const start = (body ?? '').trimStart();
  if (start.startsWith('{') || start.startsWith('[')) return 'application/json; charset=utf-8';
  if (start.startsWith('<')) return 'text/html; charset=utf-8';
  return 'text/plain; charset=utf-8';
}
