import { FmnError } from '@fmn/core';

/** A user error about an option value (exit code 1, one line). */
export function optionError(option: string, message: string): FmnError {
  return new FmnError(`${option}: ${message}`);
}

export { FmnError };
