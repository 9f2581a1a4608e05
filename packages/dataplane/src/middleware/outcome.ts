// Where the middleware chain hands a request back to the request path: a pass continues admission
// and the forward; an answer is written with the gateway's error body (JSON or text by Accept,
// with the request id) and counted in gatehouse_middleware_denied_total; a step that threw refuses
// the request with 500. One shared object: no closure per request.
import { ERROR_KINDS } from '../errors.ts';
import { refuse } from '../request/refusal.ts';
import type { RequestState } from '../request/request-state.ts';
import type { ChainOutcome } from './chain.ts';
import { countDenied } from './metrics.ts';
import type { MiddlewareAnswer, MiddlewareStep } from './step.ts';

export const chainOutcome: ChainOutcome<RequestState> = {
  proceed(state: RequestState): void {
    state.forwarder.afterChain(state);
  },
  refuse(state: RequestState, step: MiddlewareStep, answer: MiddlewareAnswer): void {
    countDenied(state.routeName ?? '', step.name, answer.reason);
    refuse(state, answer, answer.headers === null ? null : { headers: answer.headers });
  },
  fail(state: RequestState, step: MiddlewareStep, error: unknown): void {
    countDenied(state.routeName ?? '', step.name, 'error');
    state.forwarder.logger.error(
      { err: error, reqId: state.requestId, route: state.routeName, middleware: step.name },
      'middleware failed; request refused',
    );
    refuse(state, ERROR_KINDS.internal, null);
  },
};
