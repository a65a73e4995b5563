/** Which Fisher convention a request means, and whether the backend computes it (METHOD.md 3-4). */
import { FmnError, type Backend, type FisherConvention, type FullFisherConvention } from '@fmn/core';

export interface ConventionRequest {
  readonly full: boolean;
  readonly convention: FisherConvention;
}

/** The convention a Fisher file records: the full Fisher's is `example` unless `model` was asked for. */
export function fileConvention(s: ConventionRequest): FisherConvention {
  return s.full && s.convention !== 'model' ? 'example' : s.convention;
}

/** An FmnError unless the backend declares the requested Fisher (capabilities). */
export function checkFisherSupport(backend: Backend, s: ConventionRequest): void {
  const c = backend.capabilities;
  const convention = fileConvention(s);
  if (s.full && !c.fullFisher) throw new FmnError(`backend ${backend.name} does not compute the full Fisher`);
  const ok = s.full
    ? (c.fullFisherConventions ?? ['example']).includes(convention as FullFisherConvention)
    : c.conventions.includes(convention);
  if (!ok)
    throw new FmnError(
      `backend ${backend.name} does not compute the ${s.full ? 'full' : 'mask'} Fisher in the ${convention} convention`,
    );
}
