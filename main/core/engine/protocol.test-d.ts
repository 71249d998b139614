// Type-level tests, checked by `tsc`: the engine contract's results and events are exactly what the
// functions behind them return, so neither can drift without failing to compile.
import { expectTypeOf } from 'vitest';
import type { EngineArgs, EngineResult } from './protocol.ts';
import type { CaptureResult, Reduction } from './capture.ts';
import type { ScoredRow } from './scoring.ts';
import type { FinishReason } from './generate.ts';
import type { TextGenerateRequest, TextGenerateResult, TextTokenEvent } from './text-generation.ts';
import type { EventPayload } from '../rpc/contract.ts';
import type { EngineContract } from './protocol.ts';

expectTypeOf<EngineResult<'capture'>>().toEqualTypeOf<CaptureResult>();
expectTypeOf<EngineResult<'score'>>().toEqualTypeOf<ScoredRow[]>();
expectTypeOf<EngineResult<'distribution'>>().toEqualTypeOf<Float32Array[]>();
expectTypeOf<EngineResult<'residualNorms'>>().toEqualTypeOf<Float32Array>();
expectTypeOf<EngineResult<'generate'>['rows'][number]['finish']>().toEqualTypeOf<FinishReason>();
expectTypeOf<EngineResult<'generate'>>().toEqualTypeOf<TextGenerateResult>();
expectTypeOf<EventPayload<EngineContract, 'generate', 'token'>>().toEqualTypeOf<TextTokenEvent>();
expectTypeOf<EngineArgs<'generate'>>().toEqualTypeOf<TextGenerateRequest>();
expectTypeOf<EngineArgs<'capture'>['reduction']>().toEqualTypeOf<Reduction>();
