// A route in maintenance answers every request itself: the chain is this one step, so no other
// middleware and no backend is reached.
import type { MaintenanceConfig } from '@gatehouse/config';
import { answer, type MiddlewareAnswer, type MiddlewareStep, type StepResult } from './step.ts';

export class MaintenanceStep implements MiddlewareStep {
  readonly name = 'maintenance';
  readonly type = 'maintenance';
  private readonly reply: MiddlewareAnswer;

  constructor(config: MaintenanceConfig) {
    this.reply = answer(config.statusCode, 'GH_MAINTENANCE', config.message, 'maintenance');
  }

  onRequest(): StepResult {
    return this.reply;
  }
}
