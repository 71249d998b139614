// The contract repeats a few of the core's choice lists (it may not import main/ beyond rpc, so the
// renderer can load it): they must not drift apart.
import { describe, expect, it } from 'vitest';
import { COMPILE_PROVIDERS, ENGINE_PROVIDERS, JOB_STATUSES, PRECISIONS, VECTOR_FORMATS, appContract } from '../../preload/contract.ts';
import { JOB_STATUSES as CORE_JOB_STATUSES } from './library/schema.ts';
import { PROVIDER_CHOICES } from './engine/session-options.ts';
import { PRECISIONS as CORE_PRECISIONS, PROVIDERS } from '../../native-models/compile.ts';
import { VECTOR_FORMATS as CORE_FORMATS } from './formats/types.ts';
import { trainSettingsSchema } from './authoring/train-persona.ts';

describe('app contract', () => {
  it("lists the core's precisions, compile providers and vector formats", () => {
    expect(PRECISIONS).toEqual(CORE_PRECISIONS);
    expect(COMPILE_PROVIDERS).toEqual(PROVIDERS);
    expect(VECTOR_FORMATS).toEqual(CORE_FORMATS);
  });

  it("lists the library's job statuses and the engine's provider choices", () => {
    expect(JOB_STATUSES).toEqual(CORE_JOB_STATUSES);
    expect(ENGINE_PROVIDERS).toEqual(PROVIDER_CHOICES);
  });

  it('training settings are a subset of the core settings, each accepted there', () => {
    const settings = appContract['personas.train'].args.shape.settings.unwrap().shape;
    for (const key of Object.keys(settings)) expect(Object.keys(trainSettingsSchema.shape)).toContain(key);
    const parsed = appContract['personas.train'].args.parse({ model: 'm', name: 'n', promptSet: 'p', settings: { maxPairs: 4 } });
    expect(trainSettingsSchema.parse(parsed.settings).maxPairs).toBe(4);
  });
});
