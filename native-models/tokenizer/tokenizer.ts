// Text ⇄ token ids for a Hugging Face model folder (tokenizer.json + tokenizer_config.json), with the
// special ids generation needs (BOS, every EOS, pad) and the model's chat template.
// Pure JS (@huggingface/tokenizers): no Python, no native code, no network.
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { z } from 'zod';
import { ChatTemplate, chatTemplateFieldSchema, findChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat-template.ts';
import { fromZod } from '../errors.ts';

export type { ChatMessage, ChatTemplateOptions } from './chat-template.ts';

// Special tokens appear as plain strings or as serialized AddedToken objects ({content, lstrip, …}).
const specialTokenSchema = z.union([z.string(), z.object({ content: z.string() }).loose()]).nullish();

const tokenizerConfigSchema = z
  .object({
    bos_token: specialTokenSchema,
    eos_token: specialTokenSchema,
    pad_token: specialTokenSchema,
    unk_token: specialTokenSchema,
    add_bos_token: z.boolean().nullish(),
    add_eos_token: z.boolean().nullish(),
    chat_template: chatTemplateFieldSchema.nullish(),
  })
  .loose();
type TokenizerConfig = z.infer<typeof tokenizerConfigSchema>;

const idOrIdsSchema = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).nullish();
// generation_config.json and config.json share these fields.
const idsConfigSchema = z.object({ bos_token_id: idOrIdsSchema, eos_token_id: idOrIdsSchema, pad_token_id: idOrIdsSchema }).loose();
type IdsConfig = z.infer<typeof idsConfigSchema>;

const tokenizerJsonSchema = z.object({ model: z.object({ type: z.string().optional() }).loose() }).loose();

export interface EncodeOptions {
  /** Add the model's own special tokens (BOS for Llama-style models; nothing for Qwen). Default true. */
  addSpecialTokens?: boolean;
}
export interface DecodeOptions {
  /** Drop tokens marked special (BOS, `<|im_end|>`…). Default false, as in transformers. */
  skipSpecialTokens?: boolean;
}

/** Incremental detokenizer for streaming generation. */
export interface StreamDecoder {
  /** Feed one generated id; returns the text it completes (possibly ''), holding back partial UTF-8. */
  push(id: number): string;
  /** Everything still held back (an incomplete character decodes to U+FFFD). */
  flush(): string;
}

export interface TokenizerSources {
  tokenizerJson: unknown;
  tokenizerConfig: unknown;
  generationConfig?: unknown;
  modelConfig?: unknown;
  chatTemplate?: { source: string; origin: string } | null;
  /** Labels used in error messages, e.g. file paths. */
  names?: Partial<Record<'tokenizerJson' | 'tokenizerConfig' | 'generationConfig' | 'modelConfig', string>>;
}

export class TextTokenizer {
  /** The id encode() prepends for BOS, or null when the model has no BOS token (Qwen). */
  readonly bosId: number | null;
  /** Every id that ends generation: generation_config ∪ config ∪ tokenizer_config eos_token. */
  readonly eosIds: number[];
  readonly padId: number | null;
  /** Largest token id + 1 (config.json's vocab_size may be larger: padded embedding rows). */
  readonly vocabSize: number;
  /** Whether encode() with special tokens starts with bosId. */
  readonly addsBos: boolean;

  private readonly tok: Tokenizer;
  private readonly chat: ChatTemplate | null;
  private readonly fixBos: 'add' | 'remove' | null;
  private readonly specialIds: Set<number>;

  private constructor(src: TokenizerSources) {
    const names = {
      tokenizerJson: 'tokenizer.json',
      tokenizerConfig: 'tokenizer_config.json',
      generationConfig: 'generation_config.json',
      modelConfig: 'config.json',
      ...src.names,
    };
    parseOrThrow(tokenizerJsonSchema, src.tokenizerJson, names.tokenizerJson);
    const config = parseOrThrow(tokenizerConfigSchema, src.tokenizerConfig, names.tokenizerConfig);
    const gen: IdsConfig =
      src.generationConfig === undefined ? {} : parseOrThrow(idsConfigSchema, src.generationConfig, names.generationConfig);
    const model: IdsConfig = src.modelConfig === undefined ? {} : parseOrThrow(idsConfigSchema, src.modelConfig, names.modelConfig);

    try {
      this.tok = new Tokenizer(src.tokenizerJson as object, src.tokenizerConfig as object);
    } catch (err) {
      throw new Error(`${names.tokenizerJson}: unsupported tokenizer (${firstLine(err)})`, { cause: err });
    }

    const vocab = this.tok.get_vocab(true);
    let maxId = -1;
    for (const id of vocab.values()) if (id > maxId) maxId = id;
    this.vocabSize = maxId + 1;
    this.specialIds = new Set([...this.tok.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([id]) => id));

    const idOf = (field: keyof TokenizerConfig): number | null => {
      const value = config[field] as z.infer<typeof specialTokenSchema>;
      if (value == null) return null;
      const text = typeof value === 'string' ? value : value.content;
      const id = this.tok.token_to_id(text);
      if (id === undefined) throw new Error(`${names.tokenizerConfig}: ${field} ${JSON.stringify(text)} is not in the vocabulary`);
      return id;
    };

    // What the post-processor does on its own, seen by encoding a probe with and without specials.
    const bare = this.tok.encode('a', { add_special_tokens: false }).ids;
    const full = this.tok.encode('a', { add_special_tokens: true }).ids;
    const nativePrefix = full.length > bare.length && this.specialIds.has(full[0]) ? full[0] : null;

    // tokenizer_config's bos_token names BOS; config.json's bos_token_id is not trusted for it
    // (Qwen3 sets it to <|endoftext|>, which its tokenizer never prepends).
    this.bosId = idOf('bos_token') ?? nativePrefix;
    const nativeBos = nativePrefix !== null && nativePrefix === this.bosId;
    // transformers' Llama/Gemma tokenizers rebuild the post-processor from add_bos_token; do the same.
    if (config.add_bos_token === true && !nativeBos && this.bosId !== null) this.fixBos = 'add';
    else if (config.add_bos_token === false && nativeBos) this.fixBos = 'remove';
    else this.fixBos = null;
    this.addsBos = this.bosId !== null && (this.fixBos === 'add' || (nativeBos && this.fixBos === null));

    const eos = new Set<number>([...asIds(gen.eos_token_id), ...asIds(model.eos_token_id)]);
    const eosFromTokenizer = idOf('eos_token');
    if (eosFromTokenizer !== null) eos.add(eosFromTokenizer);
    this.eosIds = [...eos];
    for (const id of this.eosIds) {
      if (id >= this.vocabSize) throw new Error(`eos_token_id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    }

    this.padId = idOf('pad_token') ?? asIds(gen.pad_token_id)[0] ?? asIds(model.pad_token_id)[0] ?? null;

    const tokenStrings: Record<string, string> = {};
    for (const field of ['bos_token', 'eos_token', 'pad_token', 'unk_token'] as const) {
      const value = config[field];
      if (value != null) tokenStrings[field] = typeof value === 'string' ? value : value.content;
    }
    this.chat = src.chatTemplate ? new ChatTemplate(src.chatTemplate.source, src.chatTemplate.origin, tokenStrings) : null;
  }

  /**
   * Load a Hugging Face model folder: tokenizer.json and tokenizer_config.json are required;
   * generation_config.json, config.json and chat_template.jinja are used when present.
   */
  static load(dir: string): TextTokenizer {
    const file = (name: string) => path.join(dir, name);
    const tokenizerJson = readJson(file('tokenizer.json'), true);
    const tokenizerConfig = readJson(file('tokenizer_config.json'), true);
    const configField = parseOrThrow(tokenizerConfigSchema, tokenizerConfig, file('tokenizer_config.json')).chat_template;
    return new TextTokenizer({
      tokenizerJson,
      tokenizerConfig,
      generationConfig: readJson(file('generation_config.json'), false),
      modelConfig: readJson(file('config.json'), false),
      chatTemplate: findChatTemplate(dir, configField),
      names: {
        tokenizerJson: file('tokenizer.json'),
        tokenizerConfig: file('tokenizer_config.json'),
        generationConfig: file('generation_config.json'),
        modelConfig: file('config.json'),
      },
    });
  }

  /** Build from already-parsed JSON (e.g. files fetched or embedded elsewhere). */
  static fromSources(src: TokenizerSources): TextTokenizer {
    return new TextTokenizer(src);
  }

  get hasChatTemplate(): boolean {
    return this.chat !== null;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const add = opts.addSpecialTokens ?? true;
    const ids = this.tok.encode(text, { add_special_tokens: add }).ids;
    if (add && this.fixBos === 'add') ids.unshift(this.bosId as number);
    else if (add && this.fixBos === 'remove') ids.shift();
    return ids;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    if (ids.length === 0) return ''; // the library throws on an empty list
    return this.tok.decode(ids as number[], { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  /** The vocabulary entry for an id (e.g. 'Ġworld', '<0x0A>'), or undefined. */
  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** Render a conversation with the model's chat template (see ChatTemplateOptions for defaults). */
  applyChatTemplate(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string {
    if (!this.chat) throw new Error('tokenizer: this model has no chat template (none in tokenizer_config.json, no chat_template.jinja)');
    return this.chat.render(messages, opts);
  }

  /**
   * Render and encode a conversation. Special tokens are not added again: the template already
   * writes BOS where the model wants it (as transformers' apply_chat_template(tokenize=True) does).
   */
  encodeChat(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, opts), { addSpecialTokens: false });
  }

  /**
   * A detokenizer for streaming. It decodes a short window of recent ids and emits the text beyond the
   * already-emitted part, so decoders that depend on neighbours (SentencePiece's leading-space strip,
   * byte-level pieces of one character) give exactly the text decode() gives for the whole sequence.
   */
  createStreamDecoder(opts: DecodeOptions = {}): StreamDecoder {
    const ids: number[] = [];
    let prefixStart = 0; // window start: ids already emitted, kept as context
    let readStart = 0; // first id whose text has not been emitted
    const text = (from: number, to: number) => this.decode(ids.slice(from, to), opts);
    return {
      push: (id: number) => {
        ids.push(id);
        const emitted = text(prefixStart, readStart);
        const current = text(prefixStart, ids.length);
        // A trailing U+FFFD means the last id ended mid-character: wait for the rest of its bytes.
        if (current.length <= emitted.length || current.endsWith('\uFFFD')) return '';
        prefixStart = readStart;
        readStart = ids.length;
        return current.slice(emitted.length);
      },
      flush: () => {
        const emitted = text(prefixStart, readStart);
        const current = text(prefixStart, ids.length);
        prefixStart = readStart = ids.length;
        return current.slice(emitted.length);
      },
    };
  }
}

function asIds(value: number | number[] | null | undefined): number[] {
  if (value == null) return [];
  return Array.isArray(value) ? value : [value];
}

function readJson(file: string, required: boolean): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!required) return undefined;
      throw new Error(`${file}: missing (a Hugging Face tokenizer folder needs tokenizer.json and tokenizer_config.json)`, {
        cause: err,
      });
    }
    throw new Error(`${file}: cannot read (${firstLine(err)})`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: invalid JSON (${firstLine(err)})`, { cause: err });
  }
}

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, name: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw fromZod('format', parsed.error, name, ': ');
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
