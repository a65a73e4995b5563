// The walk-through of docs/adding-a-backend.md: a backend written against core's contract,
// registered under a new name, found by resolveBackend and run through the conformance suite.
import { describe, expect, it } from 'vitest';
import { backendChoices, listBackends, resolveBackend } from '@fmn/core';
import { runBackendConformance } from './conformance.js';
import { registerReferenceBackend } from './reference-backend.js';

registerReferenceBackend('ref-f64', 5);

describe('a new backend through the registry', () => {
  it('is registered once, listed among the choices, and resolved by family and by name', async () => {
    expect(listBackends()).toContainEqual({ name: 'ref-f64', priority: 5 });
    expect(backendChoices()).toEqual(expect.arrayContaining(['ref', 'ref-f64']));
    expect(() => registerReferenceBackend('ref-f64')).toThrow('backend "ref-f64" is already registered');
    const { backend } = await resolveBackend('ref');
    expect(backend.name).toBe('ref-f64');
    expect((await resolveBackend('ref-f64')).backend).toBe(backend);
  });
});

describe('ref-f64 passes the backend conformance suite', () => {
  runBackendConformance({ createBackend: async () => (await resolveBackend('ref-f64')).backend });
});
