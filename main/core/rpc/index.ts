// Typed calls between processes: declare a contract once, derive both sides. See the engine's
// README ("Protocol") for the pattern and main/core/engine/protocol.ts for a full contract.
export { defineContract } from './contract.ts';
export type {
  Contract,
  OpSpec,
  OpName,
  ArgsInput,
  ArgsOutput,
  ResultInput,
  ResultOutput,
  EventName,
  EventPayload,
  CallOptions,
  HandlerContext,
  Handlers,
  ClientApi,
} from './contract.ts';
export { createClient, type RpcClient, type ClientOptions } from './client.ts';
export { createServer, type RpcServer, type ServerOptions } from './server.ts';
export { clientMessageSchema, serverMessageSchema, firstIssue, type ClientMessage, type ServerMessage } from './messages.ts';
export { encode, decode, toJson, fromJson, CodecError } from './codec.ts';
export { float32Array, float64Array, int32Array, anyNumber } from './schemas.ts';
