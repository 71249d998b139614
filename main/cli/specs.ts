// What every command accepts: flag specs (checked by args.ts before anything heavy loads) and help.
// Kept free of heavy imports so `help` and bad flags answer at once; the choice lists repeat the
// core's, and specs.test.ts fails if they drift apart.
import type { FlagSpecs } from './args.ts';

export const PROVIDER_FLAG = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export const COMPILE_PROVIDER_FLAG = ['cpu', 'cuda', 'dml', 'coreml'] as const;
export const PRECISION_FLAG = ['fp32', 'fp16', 'int8', 'int4'] as const;
export const FORMAT_FLAG = ['studio', 'gguf', 'persona-vectors', 'toolkit', 'safetensors'] as const;

export const GENERATE_FLAGS = {
  model: { kind: 'string', nonEmpty: true },
  prompt: { kind: 'string' },
  system: { kind: 'string' },
  raw: { kind: 'switch' },
  greedy: { kind: 'switch' },
  json: { kind: 'switch' },
  thinking: { kind: 'switch' },
  'max-new-tokens': { kind: 'number', int: true, min: 1, max: 32768 },
  // Ranges as main/core/engine/sampling/params.ts's samplingSchema has them (specs.test.ts checks).
  temperature: { kind: 'number', min: 0, max: 100 },
  'top-p': { kind: 'number', gt: 0, max: 1 },
  'top-k': { kind: 'number', int: true, min: 0, max: 1_000_000 },
  'min-p': { kind: 'number', min: 0, max: 1 },
  'repetition-penalty': { kind: 'number', gt: 0, max: 100 },
  seed: { kind: 'number', int: true, min: 0, max: Number.MAX_SAFE_INTEGER },
  precision: { kind: 'choice', choices: PRECISION_FLAG },
  provider: { kind: 'choice', choices: PROVIDER_FLAG },
  threads: { kind: 'number', int: true, min: 0, max: 256 },
  persona: { kind: 'strings' },
  alpha: { kind: 'number', min: -1000, max: 1000 },
  layers: { kind: 'string', nonEmpty: true },
  'alpha-mode': { kind: 'choice', choices: ['norm', 'raw'] },
  ablate: { kind: 'strings' },
} as const satisfies FlagSpecs;

export const COMPARE_FLAGS = {
  ...GENERATE_FLAGS,
  alphas: { kind: 'numbers', min: -1000, max: 1000 },
} as const satisfies FlagSpecs;

export const COMPILE_FLAGS = {
  precision: { kind: 'choice', choices: PRECISION_FLAG },
  provider: { kind: 'choice', choices: COMPILE_PROVIDER_FLAG },
  'block-size': { kind: 'choice', choices: ['16', '32', '64', '128'] },
  'head-block-size': { kind: 'choice', choices: ['16', '32', '64', '128'] },
  'quant-scheme': { kind: 'choice', choices: ['signed', 'symmetric', 'asymmetric'] },
  'accuracy-level': { kind: 'choice', choices: ['0', '1', '2', '3', '4'] },
  out: { kind: 'string', nonEmpty: true },
  json: { kind: 'switch' },
} as const satisfies FlagSpecs;

export const DOWNLOAD_FLAGS = {
  revision: { kind: 'string', nonEmpty: true },
  json: { kind: 'switch' },
} as const satisfies FlagSpecs;

export const CATALOG_FLAGS = {
  provider: { kind: 'choice', choices: PROVIDER_FLAG },
  json: { kind: 'switch' },
} as const satisfies FlagSpecs;

export const PERSONAS_FLAGS = {
  search: { kind: 'string' },
  tag: { kind: 'string' },
  model: { kind: 'string', nonEmpty: true },
  trash: { kind: 'switch' },
  json: { kind: 'switch' },
  format: { kind: 'choice', choices: FORMAT_FLAG },
  name: { kind: 'string', nonEmpty: true },
  'layer-shift': { kind: 'number', int: true, min: -1024, max: 1024 },
  'dry-run': { kind: 'switch' },
  out: { kind: 'string', nonEmpty: true },
  dir: { kind: 'string', nonEmpty: true },
  layer: { kind: 'number', int: true, min: 0, max: 4096 },
  // personas train
  'prompt-set': { kind: 'string', nonEmpty: true },
  positive: { kind: 'string', nonEmpty: true },
  negative: { kind: 'string', nonEmpty: true },
  questions: { kind: 'string', nonEmpty: true },
  method: { kind: 'choice', choices: ['mean-diff', 'pca'] },
  reduction: { kind: 'choice', choices: ['response-mean', 'last-prompt', 'all-tokens'] },
  'max-pairs': { kind: 'number', int: true, min: 2, max: 100_000 },
  samples: { kind: 'number', int: true, min: 1, max: 64 },
  'max-new-tokens': { kind: 'number', int: true, min: 1, max: 4096 },
  seed: { kind: 'number', int: true, min: 0, max: Number.MAX_SAFE_INTEGER },
  heldout: { kind: 'number', min: 0, max: 0.9 },
  // personas create
  description: { kind: 'string', nonEmpty: true },
  'num-prompts': { kind: 'number', int: true, min: 2, max: 50 },
  yes: { kind: 'switch' },
  threads: { kind: 'number', int: true, min: 0, max: 256 },
} as const satisfies FlagSpecs;

export const SWEEP_FLAGS = {
  model: { kind: 'string', nonEmpty: true },
  persona: { kind: 'string', nonEmpty: true },
  layers: { kind: 'string', nonEmpty: true },
  alphas: { kind: 'numbers', min: -1000, max: 1000 },
  questions: { kind: 'string', nonEmpty: true },
  'prompt-set': { kind: 'string', nonEmpty: true },
  samples: { kind: 'number', int: true, min: 1, max: 64 },
  'max-new-tokens': { kind: 'number', int: true, min: 1, max: 4096 },
  seed: { kind: 'number', int: true, min: 0, max: Number.MAX_SAFE_INTEGER },
  'max-ppl-increase': { kind: 'number', min: 0, max: 100 },
  'max-kl': { kind: 'number', min: 0, max: 1000 },
  report: { kind: 'string', nonEmpty: true },
  json: { kind: 'switch' },
  provider: { kind: 'choice', choices: PROVIDER_FLAG },
  threads: { kind: 'number', int: true, min: 0, max: 256 },
} as const satisfies FlagSpecs;

export const REPORT_HELP = `  --report out.html|out.json|out.pdf   a self-contained HTML report (opens offline), the JSON report, or a
                         PDF printed by a headless Chromium ($PERSONA_STUDIO_CHROMIUM, else chromium or
                         google-chrome on the PATH); with no Chromium the HTML (with a print stylesheet) is
                         written as out.html instead, one line says so, and the exit code is 3`;

export const SWEEP_HELP = `persona-studio sweep --model M --persona P [options]
  Steer at every (layer, α) cell, answer held-out questions, and score each cell: trait (the unsteered
  model re-reads each reply; its projection on the persona's direction, rise over the unsteered replies
  as a share of the layer's residual norm), coherence (reply perplexity under the unsteered model), KL
  on neutral prompts, and the prompt set's markers. The recommended (layer, α) is stored on the persona
  and used by generate, chat and compare when no --alpha/--layers is given.
  --layers L             layers to sweep (all, b, a-b, a list; default all)
  --alphas A1,A2,...     α values, norm scale (default 0.25,0.5,0.75,1,1.25,1.5,2)
  --questions F | --prompt-set F|NAME   questions (default: the held-out questions of the persona's prompt set)
  --samples N (1)  --max-new-tokens N (48)  --seed N (1)
  --max-ppl-increase X   recommendation: reply perplexity at most (1+X) × unsteered (default 0.5)
  --max-kl K             recommendation: KL on neutral prompts at most K nats (default 1)
${REPORT_HELP}
  --json                 print the JSON report on stdout
  Progress with ETA on stderr; Ctrl-C cancels, and the same command later resumes where it stopped.`;

export const EVAL_FLAGS = {
  model: { kind: 'string', nonEmpty: true },
  persona: { kind: 'string', nonEmpty: true },
  judge: { kind: 'string', nonEmpty: true },
  'judge-model': { kind: 'string', nonEmpty: true },
  questions: { kind: 'string', nonEmpty: true },
  'prompt-set': { kind: 'string', nonEmpty: true },
  layer: { kind: 'number', int: true, min: 0, max: 4096 },
  alpha: { kind: 'number', min: -1000, max: 1000 },
  alphas: { kind: 'numbers', min: -1000, max: 1000 },
  samples: { kind: 'number', int: true, min: 1, max: 64 },
  'max-new-tokens': { kind: 'number', int: true, min: 1, max: 4096 },
  seed: { kind: 'number', int: true, min: 0, max: Number.MAX_SAFE_INTEGER },
  report: { kind: 'string', nonEmpty: true },
  json: { kind: 'switch' },
  provider: { kind: 'choice', choices: PROVIDER_FLAG },
  threads: { kind: 'number', int: true, min: 0, max: 256 },
} as const satisfies FlagSpecs;

export const EVAL_HELP = `persona-studio eval --model M --persona P [options]
  The persona steered at its stored recommendation (the newest sweep's; else the default layer and
  α 1, and the report says so) against the unsteered model, on held-out questions, the same seeds
  in both: trait (projection, the unsteered model re-reading each reply), coherence (reply
  perplexity under the unsteered model), KL on neutral prompts, markers, and judge scores when a
  judge is given; samples side by side. Stored in the library as an evaluation.
  --judge local|URL      the loaded model judges, or an OpenAI-compatible server (llama-server, Ollama,
                         LM Studio, OpenRouter); its key from $PERSONA_STUDIO_JUDGE_KEY, never a flag
  --judge-model NAME     the endpoint's model name (default "default")
  --questions F | --prompt-set F|NAME   questions (default: the held-out questions of the persona's prompt set)
  --layer B  --alpha A   steer here instead of the recommendation
  --alphas A1,A2,...     more α at the same layer, for α curves
  --samples N (1)  --max-new-tokens N (48)  --seed N (1)
${REPORT_HELP}
  --json                 print the JSON report on stdout
  Progress with ETA on stderr; Ctrl-C cancels, and the same command later resumes where it stopped.`;

export const ROLES_FLAGS = {
  model: { kind: 'string', nonEmpty: true },
  roles: { kind: 'string', nonEmpty: true },
  baseline: { kind: 'string', nonEmpty: true },
  'max-kl': { kind: 'number', min: 0, max: 1000 },
  shard: { kind: 'string', nonEmpty: true },
  layers: { kind: 'string', nonEmpty: true },
  positions: { kind: 'number', int: true, min: 1, max: 16 },
  alpha: { kind: 'number', gt: 0, max: 100 },
  'max-pairs': { kind: 'number', int: true, min: 2, max: 10_000 },
  'validation-questions': { kind: 'number', int: true, min: 1, max: 1000 },
  samples: { kind: 'number', int: true, min: 1, max: 64 },
  'max-new-tokens': { kind: 'number', int: true, min: 1, max: 4096 },
  seed: { kind: 'number', int: true, min: 0, max: Number.MAX_SAFE_INTEGER },
  json: { kind: 'switch' },
  provider: { kind: 'choice', choices: PROVIDER_FLAG },
  threads: { kind: 'number', int: true, min: 0, max: 256 },
} as const satisfies FlagSpecs;

export const ROLES_HELP = `persona-studio roles run --model M --roles F [options]
  A direction per role (Role-Vectors): candidates per (layer, post-instruction position) from the
  mean difference of role-instruction vs baseline-instruction activations, each tried on validation
  questions; the one expressing the role most (its markers, else projection gain) with KL on neutral
  prompts under the bound is saved as persona role:NAME with it as the recommendation.
  --roles F              JSON {role: [instructions]} / {"roles": {role: {instructions, markers}}} or
                         JSONL {"role", "instruction"} lines (main/core/authoring/README.md)
  --baseline F           generic instructions and train/validation/held-out questions (default assets/roles/baseline.json)
  --max-kl K (2)         KL bound in nats  --layers L (default: all but the last 20%)
  --positions K (4)      the last K prompt tokens  --alpha A (1)  --max-pairs N (48)
  --validation-questions N (8)  --samples N (1)  --max-new-tokens N (32)  --seed N (1)
  --shard i/n            only roles i, i+n, i+2n… (a SLURM array task); give each task its own
                         --data-dir, then library export each and library import them into one
  Resumable: the same command skips finished roles and resumes a cut one (see bench/slurm/roles.sbatch).`;

export const LIBRARY_FLAGS = { replace: { kind: 'switch' } } as const satisfies FlagSpecs;

export const SERVE_FLAGS = {
  port: { kind: 'number', int: true, min: 0, max: 65535 },
  host: { kind: 'string', nonEmpty: true },
  static: { kind: 'string', nonEmpty: true },
  threads: { kind: 'number', int: true, min: 0, max: 256 },
} as const satisfies FlagSpecs;

export const SERVE_HELP = `persona-studio serve [--port N] [--host 127.0.0.1] [--static DIR]
  Browser mode: the studio's contract over a WebSocket and the renderer build, on loopback; prints a
  URL with a random token (every request needs it). --port 0 (the default) picks a free port; a
  --host beyond loopback is allowed only when given explicitly, with a warning. --static DIR serves
  another renderer build (default out/renderer). --threads N as in generate.`;

export const MODELS_HELP = `persona-studio models compile <checkpoint-dir> [options]
  Compile a Hugging Face checkpoint (config.json + safetensors + tokenizer) into a steerable ONNX model.
  --precision fp32|fp16|int8|int4   weights (default: fp16 for cuda/dml; on cpu int4 from 100M parameters, else fp32)
  --provider cpu|cuda|dml|coreml    op set to target (default cpu)
  --block-size 16|32|64|128         int4/int8 quantisation block (default 32; 128 is faster, coarser)
  --head-block-size 16|32|64|128    block of the lm_head alone (default: --block-size)
  --quant-scheme signed|symmetric|asymmetric   int4/int8 scaling: signed = llama.cpp Q4_0 rule (default),
                                    symmetric = absmax/7, asymmetric = min/max with zero points
  --accuracy-level 0|4              MatMulNBits activations: 4 = int8 (CPU default), 0 = float
  --out DIR                         output folder (default: the compile cache in the data dir)
  --json                            print the manifest as JSON

persona-studio models download <org/name> [--revision R] [--json]
  Fetch a Hugging Face model (safetensors, configs, tokenizer) into the shared HF cache ($HF_HOME/hub),
  pinned to the commit R (default main) resolves to; resumes, verifies sha256, progress on stderr.
  $HF_TOKEN for gated models, $HF_ENDPOINT for a mirror. Afterwards --model org/name works everywhere.

persona-studio models catalog [--provider P] [--json]
  The models the studio offers: licence, gated, parameters, download size, memory per precision, and
  the recommendation for this machine's free memory (int4 on cpu, fp16 on GPU providers).`;

export const GENERATE_HELP = `persona-studio generate --model M [--prompt TEXT] [options]
  --prompt TEXT          the user message (chat template applied) or, with --raw, the literal text
  --system TEXT          a system message (chat mode)
  --raw                  no chat template; with no --prompt, start from BOS
  --max-new-tokens N     1 to 32768, default 128
  --greedy               argmax decoding (default: sampling with temperature 0.7, top-p 0.9)
  --temperature T (>= 0)  --top-p P (0 < P <= 1)  --top-k K (>= 0)  --min-p P (0 to 1)
  --repetition-penalty R (> 0)  --seed N (>= 0)
  --thinking             Qwen3: let the model think (off by default)
  --precision P          when compiling a checkpoint (default fp16 with --provider cuda|dml; on cpu int4 from 100M parameters, else fp32)
  --provider auto|cpu|cuda|dml|coreml|webgpu   execution provider (default auto: cuda, dml, else cpu;
                         falls back to cpu); a checkpoint is compiled for the provider named here
  --threads N            intra-op threads (0 to 256; 0 = onnxruntime's choice)
  --json                 one JSON object: text, prompt/generated token ids, timings
  Steering (no weight changes; α in the norm scale: α × the layer's typical residual norm × the unit
  direction, so α 1 adds a full residual's worth; 0.5–1.5 at one layer is the useful range on the demo model):
  --persona P[=α]        a library persona (id or name) or a vector file (any importable format); repeatable,
                         the personas add up; =α sets this one's α
  --alpha A              α for personas without their own (default 1)
  --layers L             all, b, a-b or a comma list (default: layer 2L/3 in norm mode; every layer
                         the vector has in raw mode)
  --alpha-mode norm|raw  raw adds α × the stored vector, as llama.cpp's --control-vector-scaled FILE:A
  --ablate P             project a persona's direction out (repeatable)

persona-studio compare --model M --persona P --alphas A1,A2,... --prompt TEXT [generate's options]
  One batched run, one column per α, the same seed for every column.

persona-studio chat --model M [--persona P[=α] ...] [--system TEXT] [generate's options]
  A conversation read line by line from stdin, replies streamed; with a persona, a trait meter
  (mean projection of the reply on the persona's direction) after each reply. Between turns:
  /alpha A, /persona P[=α] (or none), /layers L (or default), /reset, /help, /quit.`;

export const PERSONAS_HELP = `persona-studio personas <command>
  list [--search S] [--tag T] [--model M] [--trash] [--json]
  import <file> --model M [--format studio|gguf|persona-vectors|toolkit|safetensors] [--name N] [--layer-shift K] [--dry-run]
  export <persona> --format F [--out PATH | --dir DIR] [--layer B]
  rename <persona> <new name> | delete <persona> | restore <persona> | empty-trash
  show <persona> [--model M] [--json]     layers, norms, separation and provenance
  train --model M --name N (--prompt-set F | --positive F --negative F [--questions F]) [options]
    a vector for every layer from contrastive prompts. With --questions (or a prompt-set file of kind
    system-prompts) each positive/negative line is a system prompt applied to every question
    (persona_vectors); without, the lines are the prompts themselves. F: .txt (a line each), .json,
    .jsonl, Alpaca records, or a studio prompt-set file (assets/prompt-sets/*.json)
    --method mean-diff|pca   --reduction response-mean|last-prompt|all-tokens
    --max-pairs N (default 128)  --samples N (per pair, 1)  --max-new-tokens N (64)  --seed N (1)
    --heldout F             share of the lines held out for separation statistics (default 0.2)
    Progress with ETA on stderr; Ctrl-C cancels, and the same command later resumes where it stopped.
  create --model M --name N --description TEXT [--num-prompts K] [--yes]
    the loaded model writes K contrastive system prompts per side and 2K questions from the
    description (parsed strictly, 3 tries); if it cannot, our template (assets/persona-templates)
    is filled with the description and you are told why. The set is saved to the library and
    printed for review; --yes goes on to train it (train's options apply).`;

export const LIBRARY_HELP = `persona-studio library <command>
  backup [DEST] | restore <backup.sqlite|archive.zip> | export <archive.zip> | import <archive.zip> [--replace] | check | models`;

export const EXIT_CODES_HELP = `Exit codes: 0 ok; 1 internal error (a bug; PERSONA_STUDIO_DEBUG=1 prints the stack); 2 usage
  (bad flag or value); 3 not found; 4 malformed file; 5 unsupported model config; 6 model cannot load
  or run; 7 steering/vector does not fit the model; 8 cancelled; 9 out of memory, disk or positions;
  10 refused to protect data (folder not ours, library open elsewhere); 11 the model hub is unreachable
  or answered an error; 128+N killed by signal N.
  Every failure is one line on stderr: "persona-studio: <file or flag>: <problem>".`;

export const HELP = `persona-studio — persona (steering) vectors for local language models

Usage: persona-studio [--data-dir DIR] <command> ...

${MODELS_HELP}

${GENERATE_HELP}

${PERSONAS_HELP}

${SWEEP_HELP}

${EVAL_HELP}

${ROLES_HELP}

${LIBRARY_HELP}

${SERVE_HELP}

M (--model) is one rule everywhere: a folder (a compiled model, or a Hugging Face checkpoint that is
compiled on first use and cached), else a library model by id, name or content hash, else a hub id
org/name (from the HF cache, downloaded when absent, compiled on first use).
Flags: --flag VALUE or --flag=VALUE; values may be negative (--alpha -1.5); a list flag takes
comma-separated values and accumulates when repeated; any other repeated flag: the last one wins.
Data lives in --data-dir, else $PERSONA_STUDIO_HOME, else the OS's application-data folder.

${EXIT_CODES_HELP}`;
