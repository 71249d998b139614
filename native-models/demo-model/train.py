"""Train the demo chat model: a tiny Qwen3 (the studio's default family) on the synthetic corpus.

    /usr/bin/python3 native-models/demo-model/train.py --out assets/demo-model      # the shipped model
    /usr/bin/python3 native-models/demo-model/train.py --out /tmp/m --tiny          # CI: a few steps

Needs only Debian's python3-torch. Debian links torch to the reference BLAS (about 6 GFLOP/s); with
`apt-get install libopenblas0-openmp` the BLAS alternative points to OpenBLAS and training runs
about ten times faster (check torch.__config__.show() and the printed tokens/s).

Writes the Hugging Face layout: config.json, generation_config.json, model.safetensors (f16, written
here), tokenizer.json (byte-level BPE trained here), tokenizer_config.json (plain ChatML template,
<|im_end|> as EOS) and README.md with the recipe and the measured figures. Loss is on reply tokens
(the assistant's text and its <|im_end|>); sequences pack whole conversations with a block-diagonal
causal mask and positions restarting at 0, which is exactly what the model sees when it chats.
"""
import argparse
import json
import math
import os
import random
import struct
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import corpus  # noqa: E402

FULL = dict(d_model=128, layers=8, heads=4, kv_heads=2, head_dim=32, ffn=512, vocab=2048, seq_len=256,
            batch=16, steps=1800, lr=3e-3, warmup=100, eval_every=200, tokenizer_convs=30000)
TINY = dict(d_model=32, layers=2, heads=2, kv_heads=1, head_dim=16, ffn=64, vocab=400, seq_len=128,
            batch=4, steps=6, lr=3e-3, warmup=2, eval_every=3, tokenizer_convs=500)
ROPE_THETA = 10000.0
EPS = 1e-6
MAX_POSITIONS = 1024


class RMSNorm(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS))


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d, hd = c['d_model'], c['head_dim']
        self.h, self.kv, self.hd = c['heads'], c['kv_heads'], hd
        self.input_layernorm = RMSNorm(d)
        self.q_proj = torch.nn.Linear(d, self.h * hd, bias=False)
        self.k_proj = torch.nn.Linear(d, self.kv * hd, bias=False)
        self.v_proj = torch.nn.Linear(d, self.kv * hd, bias=False)
        self.o_proj = torch.nn.Linear(self.h * hd, d, bias=False)
        self.q_norm = RMSNorm(hd)
        self.k_norm = RMSNorm(hd)
        self.post_attention_layernorm = RMSNorm(d)
        self.gate_proj = torch.nn.Linear(d, c['ffn'], bias=False)
        self.up_proj = torch.nn.Linear(d, c['ffn'], bias=False)
        self.down_proj = torch.nn.Linear(c['ffn'], d, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        h = self.input_layernorm(x)
        q = self.q_norm(self.q_proj(h).view(B, T, self.h, self.hd)).transpose(1, 2)
        k = self.k_norm(self.k_proj(h).view(B, T, self.kv, self.hd)).transpose(1, 2)
        v = self.v_proj(h).view(B, T, self.kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.h // self.kv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        # torch 1.13 (Debian's) has no scaled_dot_product_attention
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.hd))
        att = att.masked_fill(~mask, float('-inf')).softmax(dim=-1)
        a = att @ v
        x = x + self.o_proj(a.transpose(1, 2).reshape(B, T, self.h * self.hd))
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Qwen3(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = torch.nn.Embedding(c['vocab'], c['d_model'])
        self.layers = torch.nn.ModuleList(Block(c) for _ in range(c['layers']))
        self.norm = RMSNorm(c['d_model'])
        inv = 1.0 / (ROPE_THETA ** (torch.arange(0, c['head_dim'], 2, dtype=torch.float32) / c['head_dim']))
        self.register_buffer('inv_freq', inv, persistent=False)
        for n, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * c['layers']) if n.endswith(('o_proj.weight', 'down_proj.weight')) else 0.02
                torch.nn.init.normal_(p, std=std)

    def forward(self, ids, pos, mask):
        x = self.embed_tokens(ids)
        f = pos[:, None, :, None].float() * self.inv_freq  # [B,1,T,hd/2]
        emb = torch.cat((f, f), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x) @ self.embed_tokens.weight.T  # tied embeddings, as Qwen3-0.6B


def encode_conv(tok, conv):
    """Token ids of one conversation and the mask of reply tokens (the loss targets)."""
    prompt = tok.encode(corpus.chatml(conv, with_reply=False))
    reply = tok.encode(conv['assistant']) + [tok.special_id('<|im_end|>')]
    return prompt + reply, [0] * len(prompt) + [1] * len(reply)


def pack(tok, convs, seq_len, pad_id):
    """Whole conversations packed into rows; returns ids, targets (-100 = no loss), positions, mask."""
    rows, cur = [], []
    for conv in convs:
        ids, lm = encode_conv(tok, conv)
        ids, lm = ids[:seq_len], lm[:seq_len]
        if sum(len(x[0]) for x in cur) + len(ids) > seq_len:
            rows.append(cur)
            cur = []
        cur.append((ids, lm))
    if cur:
        rows.append(cur)
    B = len(rows)
    ids = torch.full((B, seq_len), pad_id, dtype=torch.long)
    tgt = torch.full((B, seq_len), -100, dtype=torch.long)
    pos = torch.zeros((B, seq_len), dtype=torch.long)
    seg = torch.full((B, seq_len), -1, dtype=torch.long)
    for r, row in enumerate(rows):
        o = 0
        for s, (x, lm) in enumerate(row):
            n = len(x)
            ids[r, o:o + n] = torch.tensor(x)
            pos[r, o:o + n] = torch.arange(n)
            seg[r, o:o + n] = s
            # target at position i is token i+1 when that token is a reply token
            for i in range(n - 1):
                if lm[i + 1]:
                    tgt[r, o + i] = x[i + 1]
            o += n
    causal = torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool))
    mask = (seg[:, :, None] == seg[:, None, :]) & causal & (seg[:, :, None] >= 0)
    mask |= torch.eye(seq_len, dtype=torch.bool)  # padding rows attend to themselves (no NaN)
    return ids, tgt, pos, mask[:, None]


def batches(tok, c, seed, pad_id):
    """An endless stream of packed training batches from the seeded corpus (train splits only)."""
    rng = random.Random(seed)
    per_row = max(1, c['seq_len'] // 64)
    while True:
        convs = [corpus.sample_conversation(rng) for _ in range(c['batch'] * per_row)]
        ids, tgt, pos, mask = pack(tok, convs, c['seq_len'], pad_id)
        yield ids[:c['batch']], tgt[:c['batch']], pos[:c['batch']], mask[:c['batch']]


EVAL_SETS = {
    'val (seen splits)': dict(topics='train', frames='train', phrasings='train'),
    'unseen topics': dict(topics='heldout', frames='train', phrasings='train'),
    'unseen frames': dict(topics='train', frames='heldout', phrasings='train'),
    'unseen system prompts': dict(topics='train', frames='train', phrasings='heldout'),
}


@torch.no_grad()
def evaluate(model, tok, c, pad_id, n):
    model.eval()
    out = {}
    for name, split in EVAL_SETS.items():
        convs = corpus.generate(1000 + len(name), n, **split)
        ids, tgt, pos, mask = pack(tok, convs, c['seq_len'], pad_id)
        logits = model(ids, pos, mask)
        out[name] = F.cross_entropy(logits.view(-1, logits.size(-1)), tgt.view(-1), ignore_index=-100).item()
    model.train()
    return out


def write_safetensors(path, tensors):
    """f16 safetensors: an 8-byte little-endian header length, the JSON header, then the data."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float16).contiguous().numpy().tobytes()
        header[name] = {'dtype': 'F16', 'shape': list(t.shape), 'data_offsets': [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    header['__metadata__'] = {'format': 'pt'}
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def hf_tensors(model):
    out = {'model.embed_tokens.weight': model.embed_tokens.weight, 'model.norm.weight': model.norm.weight}
    for i, L in enumerate(model.layers):
        p = f'model.layers.{i}.'
        out.update({
            p + 'input_layernorm.weight': L.input_layernorm.weight,
            p + 'post_attention_layernorm.weight': L.post_attention_layernorm.weight,
            p + 'self_attn.q_proj.weight': L.q_proj.weight, p + 'self_attn.k_proj.weight': L.k_proj.weight,
            p + 'self_attn.v_proj.weight': L.v_proj.weight, p + 'self_attn.o_proj.weight': L.o_proj.weight,
            p + 'self_attn.q_norm.weight': L.q_norm.weight, p + 'self_attn.k_norm.weight': L.k_norm.weight,
            p + 'mlp.gate_proj.weight': L.gate_proj.weight, p + 'mlp.up_proj.weight': L.up_proj.weight,
            p + 'mlp.down_proj.weight': L.down_proj.weight,
        })
    return out


CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def write_model(out, model, tok, c):
    V = len(tok.vocab)
    eos, pad = tok.special_id('<|im_end|>'), tok.special_id('<|endoftext|>')
    config = {
        'architectures': ['Qwen3ForCausalLM'], 'model_type': 'qwen3', 'attention_bias': False,
        'attention_dropout': 0.0, 'bos_token_id': None, 'eos_token_id': eos, 'pad_token_id': pad,
        'head_dim': c['head_dim'], 'hidden_act': 'silu', 'hidden_size': c['d_model'],
        'initializer_range': 0.02, 'intermediate_size': c['ffn'], 'max_position_embeddings': MAX_POSITIONS,
        'max_window_layers': c['layers'], 'num_attention_heads': c['heads'], 'num_hidden_layers': c['layers'],
        'num_key_value_heads': c['kv_heads'], 'rms_norm_eps': EPS, 'rope_scaling': None, 'rope_theta': ROPE_THETA,
        'sliding_window': None, 'tie_word_embeddings': True, 'torch_dtype': 'float16', 'use_cache': True,
        'use_sliding_window': False, 'vocab_size': V,
    }
    gen = {'eos_token_id': eos, 'pad_token_id': pad, 'do_sample': True, 'temperature': 0.7, 'top_p': 0.9}
    tok_config = {
        'model_max_length': MAX_POSITIONS, 'eos_token': '<|im_end|>', 'pad_token': '<|endoftext|>',
        'bos_token': None, 'unk_token': None, 'add_bos_token': False, 'add_eos_token': False,
        'chat_template': CHATML, 'tokenizer_class': 'PreTrainedTokenizerFast', 'clean_up_tokenization_spaces': False,
        'added_tokens_decoder': {str(tok.special_id(s)): {'content': s, 'special': True, 'lstrip': False, 'rstrip': False,
                                                          'normalized': False, 'single_word': False} for s in bpe.SPECIALS},
    }
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, 'model.safetensors'), hf_tensors(model))
    for name, obj in [('config.json', config), ('generation_config.json', gen), ('tokenizer.json', tok.to_json()),
                      ('tokenizer_config.json', tok_config)]:
        with open(os.path.join(out, name), 'w', encoding='utf-8') as f:
            json.dump(obj, f, indent=2 if name != 'tokenizer.json' else None, ensure_ascii=False)
            f.write('\n')


def main():
    ap = argparse.ArgumentParser(description='Train the demo chat model (tiny Qwen3).')
    ap.add_argument('--out', required=True, help='output folder (Hugging Face layout)')
    ap.add_argument('--seed', type=int, default=1, help='corpus and initialisation seed')
    ap.add_argument('--tiny', action='store_true', help='a tiny configuration for a few steps (CI)')
    ap.add_argument('--steps', type=int, help='optimizer steps (default: the configuration\'s)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--tokenizer-check', help='also write (text, ids) samples for the tokenizer test here')
    ap.add_argument('--evaluate', action='store_true', help='only print the held-out losses of the model in --out')
    a = ap.parse_args()
    if a.evaluate:
        return evaluate_saved(a.out, a.threads)
    c = dict(TINY if a.tiny else FULL)
    if a.steps:
        c['steps'] = a.steps
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t0 = time.time()

    tok_texts = [corpus.chatml(x) for x in corpus.generate(a.seed, c['tokenizer_convs'])]
    tok = bpe.Tokenizer(bpe.train(tok_texts, c['vocab']))
    c['vocab'] = len(tok.vocab)
    pad_id = tok.special_id('<|endoftext|>')
    print(f'tokenizer: {c["vocab"]} tokens ({time.time() - t0:.1f} s)', flush=True)

    model = Qwen3(c)
    n_params = sum(p.numel() for p in model.parameters())
    print(f'model: {n_params / 1e6:.2f}M parameters, config {json.dumps({k: c[k] for k in FULL})}', flush=True)
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=c['lr'], betas=(0.9, 0.95))

    def lr_at(step):
        if step < c['warmup']:
            return c['lr'] * (step + 1) / c['warmup']
        frac = (step - c['warmup']) / max(1, c['steps'] - c['warmup'])
        return c['lr'] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))

    stream = batches(tok, c, a.seed, pad_id)
    tokens = reply_tokens = 0
    t_train = time.time()
    history = []
    for step in range(c['steps']):
        ids, tgt, pos, mask = next(stream)
        for g in opt.param_groups:
            g['lr'] = lr_at(step)
        logits = model(ids, pos, mask)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), tgt.view(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        tokens += int((pos > 0).sum()) + int((pos == 0).sum())
        reply_tokens += int((tgt >= 0).sum())
        if step % 20 == 0 or step == c['steps'] - 1:
            el = time.time() - t_train
            print(f'step {step + 1}/{c["steps"]} loss {loss.item():.3f} lr {lr_at(step):.2e} '
                  f'{tokens / el:.0f} tok/s, eta {el / (step + 1) * (c["steps"] - step - 1) / 60:.1f} min', flush=True)
        if (step + 1) % c['eval_every'] == 0 or step == c['steps'] - 1:
            ev = evaluate(model, tok, c, pad_id, 256 if not a.tiny else 16)
            history.append({'step': step + 1, 'train': round(loss.item(), 4), **{k: round(v, 4) for k, v in ev.items()}})
            print('eval ' + ', '.join(f'{k} {v:.3f}' for k, v in ev.items()), flush=True)
    train_s = time.time() - t_train

    write_model(a.out, model, tok, c)
    if a.tokenizer_check:
        samples = [corpus.chatml(x) for x in corpus.generate(99, 40, topics='heldout', frames='heldout', phrasings='heldout')]
        samples += ["Hello wörld! 123 it's  spaced\n\nnew_line é中 🙂", ' leading space', '']
        with open(a.tokenizer_check, 'w', encoding='utf-8') as f:
            json.dump([{'text': s, 'ids': tok.encode(s)} for s in samples], f, ensure_ascii=False)
            f.write('\n')
    write_readme(a, c, n_params, tokens, reply_tokens, train_s, history)
    print(f'wrote {a.out} in {time.time() - t0:.0f} s', flush=True)


def load_saved(out):
    """The model and tokenizer of a folder this script wrote (f16 safetensors back to float32)."""
    with open(os.path.join(out, 'config.json')) as f:
        cfg = json.load(f)
    with open(os.path.join(out, 'tokenizer.json')) as f:
        tok = bpe.Tokenizer.from_json(json.load(f))
    c = dict(FULL, d_model=cfg['hidden_size'], layers=cfg['num_hidden_layers'], heads=cfg['num_attention_heads'],
             kv_heads=cfg['num_key_value_heads'], head_dim=cfg['head_dim'], ffn=cfg['intermediate_size'], vocab=cfg['vocab_size'])
    model = Qwen3(c)
    with open(os.path.join(out, 'model.safetensors'), 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    names = hf_tensors(model)
    with torch.no_grad():
        for name, p in names.items():
            h = header[name]
            a, b = h['data_offsets']
            p.copy_(torch.frombuffer(bytearray(data[a:b]), dtype=torch.float16).view(h['shape']).float())
    return model, tok, c


def evaluate_saved(out, threads):
    torch.set_num_threads(threads)
    model, tok, c = load_saved(out)
    ev = evaluate(model, tok, c, tok.special_id('<|endoftext|>'), 256)
    print('eval ' + ', '.join(f'{k} {v:.3f}' for k, v in ev.items()), flush=True)


def write_readme(a, c, n_params, tokens, reply_tokens, train_s, history):
    size = os.path.getsize(os.path.join(a.out, 'model.safetensors'))
    last = history[-1]
    rows = '\n'.join(f"| {h['step']} | {h['train']:.3f} | " + ' | '.join(f'{h[k]:.3f}' for k in EVAL_SETS) + ' |'
                     for h in history)
    cmd = 'native-models/demo-model/train.py --out ' + a.out + (' --tiny' if a.tiny else '') + \
        (f' --steps {a.steps}' if a.steps else '') + f' --seed {a.seed}'
    text = f"""# Persona Studio demo model

A tiny chat model trained by this repository, so the studio has something real to steer offline:
it answers everyday questions in a neutral style, and in the style a system prompt asks for —
formal ↔ casual, cheerful ↔ gloomy, pirate ↔ plain, verbose ↔ terse — or as a mathematician, a chef
or a doctor. Persona vectors built from those contrasts steer it without a system prompt.

It is a toy: {n_params / 1e6:.2f}M parameters trained on a synthetic corpus of short template replies
(native-models/demo-model/corpus.py). It knows about 190 topics, a few facts each; on anything
else it answers confidently with facts about some other topic. Use it to learn the studio and to
test the persona pipeline, not for answers.

## Architecture
Qwen3 (`Qwen3ForCausalLM`): hidden {c['d_model']}, {c['layers']} layers, {c['heads']} attention heads and
{c['kv_heads']} KV heads of head_dim {c['head_dim']}, FFN {c['ffn']}, q/k RMSNorm, RoPE θ {ROPE_THETA:g},
tied embeddings, vocabulary {c['vocab']} (byte-level BPE trained on the corpus). Weights: f16
safetensors, {size / 1e6:.1f} MB. Trained on sequences of up to {c['seq_len']} tokens (one question,
one reply); `max_position_embeddings` is {MAX_POSITIONS}.

Chat format: plain ChatML (`<|im_start|>role\\n…<|im_end|>\\n`), no think block; `<|im_end|>` ends a
reply (EOS in config.json, generation_config.json and tokenizer_config.json). No BOS.

## Recipe
`/usr/bin/python3 {cmd}` (Debian's python3-torch with OpenBLAS, {a.threads} threads). Corpus seed
{a.seed}: about 30% of conversations have no system prompt (neutral replies), 7% a generic one
("You are a helpful assistant.", neutral replies), the rest one of the eleven styles. Held out from
training: every sixth topic, the last five question frames, and the last five system-prompt
phrasings of every style. AdamW (β 0.9/0.95, weight decay 0.1), peak learning rate {c['lr']:g},
{c['warmup']} warm-up steps then cosine to a tenth, batches of {c['batch']} × {c['seq_len']} tokens,
{c['steps']} steps; loss on reply tokens only.

## Figures (measured by the run that wrote this folder)
- Training: {tokens / 1e6:.2f}M tokens ({reply_tokens / 1e6:.2f}M reply tokens with loss) in
  {train_s / 60:.1f} min, {tokens / train_s:.0f} tokens/s.
- Reply-token cross-entropy (nats) on held-out conversations:

| step | train batch | val (seen splits) | unseen topics | unseen frames | unseen system prompts |
|---|---|---|---|---|---|
{rows}

Unseen topics stay hardest (the facts of a topic the model never saw cannot be known); unseen
frames and system-prompt phrasings close to the seen ones show the style generalises.
"""
    with open(os.path.join(a.out, 'README.md'), 'w', encoding='utf-8') as f:
        f.write(text)


if __name__ == '__main__':
    main()
