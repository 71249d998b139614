// The envelope every contract travels in, whatever the transport (worker_threads or Electron's
// structured clone; JSON over a WebSocket through codec.ts). A call gets exactly one 'result' or
// 'error', possibly preceded by 'event's carrying the same id; 'cancel' asks the callee to abort
// call `id` and is never answered.
import { z } from 'zod';

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('call'), id: z.number().int(), op: z.string(), args: z.unknown() }),
  z.object({ type: z.literal('cancel'), id: z.number().int() }),
]);
export type ClientMessage = z.output<typeof clientMessageSchema>;

export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('result'), id: z.number().int(), value: z.unknown() }),
  z.object({ type: z.literal('error'), id: z.number().int(), name: z.string(), message: z.string() }),
  z.object({ type: z.literal('event'), id: z.number().int(), event: z.string(), value: z.unknown() }),
]);
export type ServerMessage = z.output<typeof serverMessageSchema>;

/** "<where><sep>a.b: message" from the first zod issue: one line naming the field. */
export function firstIssue(where: string, error: z.ZodError, sep = '.'): string {
  const issue = error.issues[0];
  if (!issue) return `${where}: invalid`;
  const path = issue.path.length ? `${sep}${issue.path.map(String).join('.')}` : '';
  return `${where}${path}: ${issue.message}`;
}
