// Step factories of the request-shaping middleware types, by type name; compile.ts merges them
// with the authentication types. Empty until those types are implemented.
import type { StepFactory } from './compile.ts';

export const shapingStepFactories: Array<[string, StepFactory]> = [];
