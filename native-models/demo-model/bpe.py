"""Byte-level BPE, trained here and saved as a Hugging Face tokenizer.json.

The same pre-tokenisation as tokenizers' ByteLevel(use_regex=True) (GPT-2's split: contractions,
letters, digits, other symbols, whitespace) and the same merge-by-rank encoding, so ids from
`encode()` here equal what @huggingface/tokenizers produces from the saved file (a test checks).
Special tokens are split out before pre-tokenisation, as added tokens are in tokenizers.
"""
import collections
import json
import re

# GPT-2's pattern with \p{L} -> [^\W\d_] and \p{N} -> \d (the same on the ASCII corpus we train on);
# [^\s\p{L}\p{N}] also matches '_', which \w would exclude, hence (?:[^\s\w]|_).
PRETOKEN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")
SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>']


def bytes_to_unicode():
    """GPT-2's map of the 256 byte values to printable characters (the ByteLevel alphabet)."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


BYTE_CHARS = bytes_to_unicode()
SPECIAL_SPLIT = re.compile('(' + '|'.join(re.escape(s) for s in SPECIALS) + ')')


def pretokens(text):
    """Byte-level pre-tokens of plain text (no specials), each as a string of ByteLevel chars."""
    return [''.join(BYTE_CHARS[b] for b in m.group(0).encode('utf-8')) for m in PRETOKEN.finditer(text)]


def train(texts, vocab_size):
    """Merges learned greedily by pair frequency (ties broken by the pair itself, so deterministic)."""
    counts = collections.Counter()
    for text in texts:
        for part in SPECIAL_SPLIT.split(text):
            if part and part not in SPECIALS:
                counts.update(pretokens(part))
    words = [(list(w), c) for w, c in counts.items()]
    n_merges = vocab_size - 256 - len(SPECIALS)
    merges = []
    pair_counts = collections.Counter()
    where = collections.defaultdict(set)  # pair -> indices of words containing it
    for i, (syms, c) in enumerate(words):
        for p in zip(syms, syms[1:]):
            pair_counts[p] += c
            where[p].add(i)
    for _ in range(n_merges):
        if not pair_counts:
            break
        best = max(pair_counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pair_counts[best] < 2:
            break
        merges.append(best)
        merged = best[0] + best[1]
        for i in list(where[best]):
            syms, c = words[i]
            for p in zip(syms, syms[1:]):
                pair_counts[p] -= c
                if pair_counts[p] <= 0:
                    del pair_counts[p]
            out, j = [], 0
            while j < len(syms):
                if j + 1 < len(syms) and syms[j] == best[0] and syms[j + 1] == best[1]:
                    out.append(merged)
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            words[i] = (out, c)
            for p in zip(out, out[1:]):
                pair_counts[p] += c
                where[p].add(i)
        del where[best]
    return merges


class Tokenizer:
    def __init__(self, merges):
        self.merges = [tuple(m) for m in merges]
        self.rank = {m: r for r, m in enumerate(self.merges)}
        vocab = [BYTE_CHARS[b] for b in range(256)] + [a + b for a, b in self.merges]
        self.vocab = {tok: i for i, tok in enumerate(vocab)}
        for s in SPECIALS:
            self.vocab[s] = len(self.vocab)
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.byte_of = {c: b for b, c in BYTE_CHARS.items()}
        self.cache = {}

    def special_id(self, s):
        return self.vocab[s]

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        syms = list(word)
        while len(syms) > 1:
            pairs = [(self.rank.get(p, 1 << 30), k) for k, p in enumerate(zip(syms, syms[1:]))]
            r, k = min(pairs)
            if r == 1 << 30:
                break
            syms[k:k + 2] = [syms[k] + syms[k + 1]]
        ids = [self.vocab[s] for s in syms]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        ids = []
        for part in SPECIAL_SPLIT.split(text):
            if not part:
                continue
            if part in SPECIALS:
                ids.append(self.vocab[part])
            else:
                for w in pretokens(part):
                    ids.extend(self._bpe(w))
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            tok = self.id_to_token[i]
            if tok in SPECIALS:
                out.extend(tok.encode('utf-8'))
            else:
                out.extend(self.byte_of[c] for c in tok)
        return out.decode('utf-8', errors='replace')

    def to_json(self):
        """tokenizer.json in the layout the tokenizers library saves (ByteLevel BPE, added tokens)."""
        return {
            'version': '1.0',
            'truncation': None,
            'padding': None,
            'added_tokens': [
                {'id': self.vocab[s], 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False,
                 'normalized': False, 'special': True} for s in SPECIALS],
            'normalizer': None,
            'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
            'post_processor': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': False, 'use_regex': True},
            'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
            'model': {
                'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                'vocab': {t: i for t, i in self.vocab.items() if t not in SPECIALS},
                'merges': [f'{a} {b}' for a, b in self.merges],
            },
        }

    @staticmethod
    def from_json(obj):
        return Tokenizer([m.split(' ') for m in obj['model']['merges']])
