// `access`: the matching paths are refused with the configured status.
import type { MiddlewareConfigOf } from '@gatehouse/config';
import { answer, type MiddlewareAnswer, type MiddlewareStep, type StepResult } from './step.ts';

export class AccessStep implements MiddlewareStep {
  readonly name: string;
  readonly type = 'access';
  private readonly refusal: MiddlewareAnswer;

  constructor(config: MiddlewareConfigOf<'access'>) {
    this.name = config.name;
    this.refusal = answer(
      config.rule.statusCode,
      'GH_ACCESS_BLOCKED',
      'access to this path is blocked',
      'blocked_path',
    );
  }

  onRequest(): StepResult {
    return this.refusal;
  }
}
