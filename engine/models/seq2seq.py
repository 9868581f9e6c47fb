"""Neural machine translation with and without attention, side by side, on a synthetic English-to-French world.

RNNenc (Cho et al. 2014, "Learning Phrase Representations using RNN Encoder-Decoder for Statistical Machine
Translation", arXiv 1406.1078): a GRU reads the source into one fixed vector c = tanh(V h_Tx); the decoder GRU sees
c at every step:  s_i = GRU(s_{i-1}, [E y_{i-1}; c]),  p(y_i | y_<i, x) = g(s_i, y_{i-1}, c).

RNNsearch (Bahdanau, Cho & Bengio 2014, "Neural Machine Translation by Jointly Learning to Align and Translate",
arXiv 1409.0473): a bidirectional GRU gives one annotation h_j = [h->_j; h<-_j] per source word, and for every
target word the decoder builds its own context from an alignment model (appendix A.1.2):
    e_ij = v^T tanh(W s_{i-1} + U h_j),   alpha_ij = softmax_j(e_ij),   c_i = sum_j alpha_ij h_j
    s_i = GRU(s_{i-1}, [E y_{i-1}; c_i]),   p(y_i | y_<i, x) = g(s_i, y_{i-1}, c_i),   s_0 = tanh(W_s h<-_1)
U h_j does not depend on i, so it is computed once per sentence. alpha is the soft alignment the page draws.

Both are trained on sources of at most 30 words (the paper's RNNsearch-30 / RNNenc-30) and tested on buckets up to
60 words, so the long-sentence result is measured outside the training range, as in the paper's Figure 2.

Two departures from the papers, both for the sake of sentences longer than any seen in training (the measurements
behind them are in README.md, Model notes):
- for a share `carry` of the training sentences, RNNsearch's two encoder GRUs start from the states they ended in on
  another sentence of the batch, so an annotation cannot tell its word's place by counting from the sentence's ends
  and the decoder has to find the next word by what the annotations say; at test time and on the page they start
  from zero, as in the paper;
- the weights that translate (NmtPair) are a running average of the trained ones (Polyak averaging), for both
  networks, because the last weights swing from one stretch of training to the next on sentences longer than any
  seen.

The module holds the two networks and their pair, greedy and beam-search decoding, the training step, and the
evaluation: corpus BLEU by source-length bucket, and the alignment error rate of RNNsearch's argmax attention against
the grammar's gold links.
"""
import copy
import functools
import math
from dataclasses import dataclass

import numpy as np
import sacrebleu
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from engine.data import grammar
from engine.models import common
from engine.models.common import BOS, EOS, PAD, Vocab, model_device, pad
from engine.registry import ModelSpec, register

# Bahdanau et al. 2014, Table 1, WMT'14 English-to-French test set: BLEU on all sentences / without unknown words.
PAPER_BLEU = {"RNNenc-30": (13.93, 24.19), "RNNsearch-30": (21.50, 31.44),
              "RNNenc-50": (17.82, 26.71), "RNNsearch-50": (26.75, 34.16)}
NETWORKS = ("rnnsearch", "rnnenc")
LONG = 41                                # "long" sentences: 41 words and more, past the training range


@dataclass(frozen=True)
class NmtConfig:
    emb: int = 64               # word vectors (paper: 620); the grammar has a few hundred words
    hidden: int = 128           # GRU units in each direction and in the decoder (paper: 1000)
    align: int = 128            # hidden units of the alignment model (paper: 1000)
    train_pairs: int = 40000    # generated sentence pairs (paper: 348M words of WMT'14)
    max_len: int = 30           # longest training source: RNNsearch-30 / RNNenc-30
    test_per_bucket: int = 100  # test sentences per source-length bucket (grammar.BUCKETS)
    steps: int = 10000          # minibatches for each network: the pair took 44 minutes on one core
    batch_size: int = 64        # paper: 80
    lr: float = 1e-3            # Adam (paper: Adadelta)
    grad_clip: float = 1.0      # each network's gradient norm is clipped (paper: 1)
    carry: float = 0.5          # share of training sentences RNNsearch's encoder reads from another one's end state
    average: float = 0.999      # decay of the running average of each network's weights that is served
    seed: int = 0


# ---------------------------------------------------------------- vocabularies

def vocab(words) -> Vocab:
    return Vocab((grammar.PAD, grammar.BOS, grammar.EOS, grammar.UNK) + tuple(words))


@functools.cache
def vocabularies() -> tuple[Vocab, Vocab]:
    """English and French vocabularies: fixed by the grammar, so a checkpoint's ids never depend on its data."""
    return vocab(grammar.english_vocab()), vocab(grammar.french_vocab())


# ---------------------------------------------------------------- the two networks

class Output(nn.Module):
    """g(s_i, y_{i-1}, c_i): one tanh layer over the state, the previous word and the context, then the softmax
    logits (the paper uses a maxout layer here)."""

    def __init__(self, hidden: int, emb: int, context: int, n_words: int):
        super().__init__()
        self.mix = nn.Linear(hidden + emb + context, hidden)
        self.logits = nn.Linear(hidden, n_words)

    def forward(self, s, y_emb, c):
        return self.logits(torch.tanh(self.mix(torch.cat([s, y_emb, c], -1))))


class Alignment(nn.Module):
    """e_ij = v^T tanh(W s_{i-1} + U h_j), normalised over the source words j that are not padding."""

    def __init__(self, hidden: int, annotation: int, align: int):
        super().__init__()
        self.w = nn.Linear(hidden, align, bias=False)
        self.u = nn.Linear(annotation, align)
        self.v = nn.Linear(align, 1, bias=False)

    def forward(self, s_prev, uh, mask):
        e = common.additive_scores(uh, self.w(s_prev), self.v)                            # (B, Tx)
        return torch.softmax(e.masked_fill(~mask, -math.inf), -1)                   # (B, Tx), rows sum to 1


class RNNsearch(nn.Module):
    def __init__(self, n_src: int, n_tgt: int, config: NmtConfig):
        super().__init__()
        h = config.hidden
        self.src_emb = nn.Embedding(n_src, config.emb, padding_idx=PAD)
        self.tgt_emb = nn.Embedding(n_tgt, config.emb, padding_idx=PAD)
        self.encoder = nn.GRU(config.emb, h, batch_first=True, bidirectional=True)
        self.init_state = nn.Linear(h, h)
        self.alignment = Alignment(h, 2 * h, config.align)
        self.cell = nn.GRUCell(config.emb + 2 * h, h)
        self.output = Output(h, config.emb, 2 * h, n_tgt)

    def read(self, src: torch.Tensor, lengths: torch.Tensor, start: torch.Tensor | None = None):
        """The bidirectional GRU over padded sources from the states `start` (2, B, H) or zeros: the packed
        annotations and the two GRUs' last states (2, B, H)."""
        packed = pack_padded_sequence(self.src_emb(src), lengths.cpu(), batch_first=True, enforce_sorted=False)
        return self.encoder(packed, start)

    def encode(self, src: torch.Tensor, lengths: torch.Tensor, start: torch.Tensor | None = None) -> dict:
        """Annotations h (B, Tx, 2H), U h precomputed (B, Tx, A), the source mask (B, Tx) and s_0 (B, H)."""
        out, _ = self.read(src, lengths, start)
        h, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])   # (B, Tx, 2H)
        backward_first = h[:, 0, self.cell.hidden_size:]                               # h<-_1 (B, H)
        return {"h": h, "uh": self.alignment.u(h), "mask": src != PAD,
                "s": torch.tanh(self.init_state(backward_first))}

    def recur(self, memory: dict, s_prev: torch.Tensor, y_emb: torch.Tensor):
        """Attend from s_{i-1}, then update the state: (s_i (B, H), c_i (B, 2H), alpha_i (B, Tx))."""
        alpha = self.alignment(s_prev, memory["uh"], memory["mask"])                  # (B, Tx)
        c = torch.bmm(alpha.unsqueeze(1), memory["h"]).squeeze(1)                      # (B, 2H)
        return self.cell(torch.cat([y_emb, c], -1), s_prev), c, alpha

    def step(self, memory: dict, s_prev: torch.Tensor, y_prev: torch.Tensor):
        """One decoder step from the previous state and word: (logits (B, V), s_i (B, H), alpha_i (B, Tx))."""
        y_emb = self.tgt_emb(y_prev)
        s, c, alpha = self.recur(memory, s_prev, y_emb)
        return self.output(s, y_emb, c), s, alpha

    def forward(self, src, lengths, tgt_in, start=None):
        """Teacher-forced logits (B, Ty, V) and alignments (B, Ty, Tx) for target inputs BOS y_1 .. y_{Ty-1}, the
        encoder starting from the states `start` (2, B, H) or zeros."""
        memory = self.encode(src, lengths, start)
        y_emb = self.tgt_emb(tgt_in)                                                   # (B, Ty, E)
        s, states, contexts, alphas = memory["s"], [], [], []
        for i in range(tgt_in.shape[1]):
            s, c, alpha = self.recur(memory, s, y_emb[:, i])
            states.append(s)
            contexts.append(c)
            alphas.append(alpha)
        # The output layer does not feed the recurrence, so it runs once over all steps.
        return self.output(torch.stack(states, 1), y_emb, torch.stack(contexts, 1)), torch.stack(alphas, 1)


class RNNenc(nn.Module):
    def __init__(self, n_src: int, n_tgt: int, config: NmtConfig):
        super().__init__()
        h = config.hidden
        self.src_emb = nn.Embedding(n_src, config.emb, padding_idx=PAD)
        self.tgt_emb = nn.Embedding(n_tgt, config.emb, padding_idx=PAD)
        self.encoder = nn.GRU(config.emb, h, batch_first=True)
        self.summary = nn.Linear(h, h)           # c = tanh(V h_Tx)
        self.init_state = nn.Linear(h, h)        # s_0 = tanh(W c)
        self.decoder = nn.GRU(config.emb + h, h, batch_first=True)
        self.output = Output(h, config.emb, h, n_tgt)

    def encode(self, src: torch.Tensor, lengths: torch.Tensor) -> dict:
        packed = pack_padded_sequence(self.src_emb(src), lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, last = self.encoder(packed)                                                  # (1, B, H): h_Tx
        c = torch.tanh(self.summary(last[0]))                                          # (B, H), the fixed vector
        return {"c": c, "s": torch.tanh(self.init_state(c))}

    def step(self, memory: dict, s_prev: torch.Tensor, y_prev: torch.Tensor):
        y_emb = self.tgt_emb(y_prev)
        _, s = self.decoder(torch.cat([y_emb, memory["c"]], -1).unsqueeze(1), s_prev.unsqueeze(0))
        return self.output(s[0], y_emb, memory["c"]), s[0], None

    def forward(self, src, lengths, tgt_in):
        memory = self.encode(src, lengths)
        y_emb = self.tgt_emb(tgt_in)                                                   # (B, Ty, E)
        c = memory["c"].unsqueeze(1).expand(-1, tgt_in.shape[1], -1)                   # (B, Ty, H)
        s, _ = self.decoder(torch.cat([y_emb, c], -1), memory["s"].unsqueeze(0))       # (B, Ty, H)
        return self.output(s, y_emb, c), None


class NmtPair(nn.Module):
    """RNNsearch and RNNenc, trained side by side on the same batches with the same budget.

    The networks in `trained` take the gradient steps. What is served (`rnnsearch`, `rnnenc`: the page, the
    evaluation) is a running average of their weights over training (Polyak averaging, with the decay of
    `average`). Measured on RNNsearch alone, 6,000 batches, two seeds: the averaged weights translate at BLEU 94.3
    and 94.8 against 87.7 and 94.0 for the last ones, alignment error rate 0.135 and 0.115 against 0.162 and
    0.134; the last weights swing from one stretch of training to the next on sentences longer than any seen."""

    def __init__(self, config: NmtConfig):
        super().__init__()
        en, fr = vocabularies()
        self.rnnsearch = RNNsearch(len(en), len(fr), config)
        self.rnnenc = RNNenc(len(en), len(fr), config)
        self.trained = nn.ModuleDict({name: copy.deepcopy(self.network(name)) for name in NETWORKS})
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))

    def network(self, name: str) -> nn.Module:
        """The served (averaged) network."""
        if name not in NETWORKS:
            raise KeyError(f"unknown network {name!r}: rnnsearch or rnnenc")
        return getattr(self, name)

    def forward(self, src: torch.Tensor) -> torch.Tensor:
        """RNNsearch's greedy translation ids (B, Ty) of padded sources (B, Tx)."""
        ids, _ = greedy(self.rnnsearch, src, (src != PAD).sum(1))
        return ids


# ---------------------------------------------------------------- decoding

def decode_limit(length: int) -> int:
    """Longest output allowed for a source of `length` words: French runs longer than English, never 2x + 10."""
    return 2 * length + 10


@torch.no_grad()
def greedy(net: nn.Module, src: torch.Tensor, lengths: torch.Tensor):
    """Batched greedy decoding: ids (B, Ty) ending with EOS or cut at the limit, and alignments (B, Ty, Tx) or
    None for RNNenc."""
    memory = net.encode(src, lengths)
    bos = torch.full((len(src),), BOS, dtype=torch.long, device=src.device)
    return common.greedy_search(lambda s, y: net.step(memory, s, y), memory["s"], bos,
                                decode_limit(int(lengths.max())))


@dataclass
class Translation:
    words: list[str]            # the French words, without EOS
    ended: bool                 # False when the output was cut at decode_limit before the model wrote EOS
    alignment: np.ndarray | None   # (len(words) + ended, Tx): attention for each output word (and EOS); RNNenc: None
    log_prob: float             # log p(words, EOS | x), or log p(words | x) when cut


def beam_search(net: nn.Module, src_ids: list[int], width: int, fr: Vocab) -> Translation:
    """Beam search for one sentence (width 1 is greedy)."""
    dev = model_device(net)
    with torch.no_grad():
        memory = net.encode(torch.tensor([src_ids], device=dev), torch.tensor([len(src_ids)]))

    def step(s, y, source):
        return net.step({key: v[source] for key, v in memory.items() if key != "s"}, s, y)

    out = common.beam_search(step, memory["s"], width, decode_limit(len(src_ids)))[0]
    return Translation(fr.decode(out.ids), out.ended, out.attention, out.log_prob)


# ---------------------------------------------------------------- data and training

@dataclass(frozen=True)
class NmtData:
    train: list             # grammar.Pair, sources of at most max_len words, shortest first
    test: list              # grammar.Pair, test_per_bucket for each bucket, none of them seen in training
    src: torch.Tensor       # (N, max_len) padded English ids
    src_len: torch.Tensor   # (N,)
    tgt: torch.Tensor       # (N, Ty + 2) padded French ids: BOS y_1 .. y_Ty EOS
    x_test: torch.Tensor    # (M, Tx) padded English ids of the test sentences


@functools.cache
def load_data(config: NmtConfig) -> NmtData:
    test = test_pairs(config)
    train = grammar.corpus(config.seed, config.train_pairs, max_len=config.max_len,
                           exclude=frozenset(p.src for p in test))
    train = sorted(train, key=lambda p: len(p.src))                  # stable: ties keep the generator's order
    en, fr = vocabularies()
    src = pad([en.encode(p.src) for p in train], config.max_len)
    tgt = pad([[BOS] + fr.encode(p.tgt) + [EOS] for p in train])
    return NmtData(train, test, src, torch.tensor([len(p.src) for p in train]), tgt,
                   pad([en.encode(p.src) for p in test]))


def optimizers(model: NmtPair, config: NmtConfig) -> dict:
    return {name: common.adam(model.trained[name].parameters(), config.lr) for name in NETWORKS}


def token_loss(logits: torch.Tensor, tgt_out: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood per target word (padding excluded)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=PAD)


@torch.no_grad()
def carried_states(net: RNNsearch, src, lengths, share: float, generator) -> torch.Tensor:
    """Encoder starting states (2, B, H): for a `share` of the sentences, the states the two GRUs end in on another
    sentence of the batch; zeros for the rest."""
    other = torch.randperm(len(src), generator=generator)
    _, last = net.read(src[other.to(src.device)], lengths[other])
    keep = torch.rand(len(src), generator=generator) < share
    return last * keep.to(last.device)[None, :, None]


@torch.no_grad()
def update_average(average: nn.Module, trained: nn.Module, decay: float, step: int) -> None:
    """Move the averaged weights toward the trained ones. The decay starts low and grows to `decay` (as in
    TensorFlow's ExponentialMovingAverage), so the average does not hold on to the random initial weights."""
    d = min(decay, (1 + step) / (10 + step))
    for a, w in zip(average.parameters(), trained.parameters()):
        a.lerp_(w, 1 - d)


def train_step(model, data, config, generator, opts) -> float:
    """One minibatch for each trained network, each gradient clipped on its own, then the served averages follow.
    Returns RNNsearch's loss."""
    # Pairs are sorted by source length, so a window of consecutive pairs is a batch of similar lengths: little
    # padding, and short batches cost little.
    start = int(torch.randint(0, len(data.src) - config.batch_size + 1, (1,), generator=generator))
    idx = torch.arange(start, start + config.batch_size)
    lengths = data.src_len[idx]
    dev = model_device(model)
    src = data.src[idx, :int(lengths.max())].to(dev)
    tgt = data.tgt[idx]
    tgt = tgt[:, :int((tgt != PAD).sum(1).max())].to(dev)
    losses = {}
    for name, opt in opts.items():
        net = model.trained[name]
        if name == "rnnsearch" and config.carry:
            logits, _ = net(src, lengths, tgt[:, :-1], carried_states(net, src, lengths, config.carry, generator))
        else:
            logits, _ = net(src, lengths, tgt[:, :-1])
        loss = token_loss(logits, tgt[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
        opt.step()
        update_average(model.network(name), net, config.average, int(model.steps_done))
        losses[name] = loss.item()
    model.steps_done += 1
    return losses["rnnsearch"]


# ---------------------------------------------------------------- evaluation

def batches(pairs: list, size: int = 100):
    for i in range(0, len(pairs), size):
        yield pairs[i:i + size]


def encode_sources(pairs: list, dev) -> tuple[torch.Tensor, torch.Tensor]:
    en, _ = vocabularies()
    return pad([en.encode(p.src) for p in pairs]).to(dev), torch.tensor([len(p.src) for p in pairs])


@torch.no_grad()
def translate_all(net: nn.Module, pairs: list) -> list[list[str]]:
    """Greedy translations of many pairs' sources, batched."""
    _, fr = vocabularies()
    out = []
    for chunk in batches(pairs):
        ids, _ = greedy(net, *encode_sources(chunk, model_device(net)))
        out += [fr.decode(row) for row in ids.tolist()]
    return out


def bleu(hypotheses: list[list[str]], references: list[tuple[str, ...]]) -> float:
    """Corpus BLEU (sacrebleu, 0-100) on already tokenized words."""
    return sacrebleu.corpus_bleu([" ".join(h) for h in hypotheses], [[" ".join(r) for r in references]],
                                 tokenize="none").score


def bucket_name(bucket: tuple[int, int]) -> str:
    return f"{bucket[0]}-{bucket[1]}"


def bleu_of(hypotheses: list, references: list, rows: list[int]) -> float:
    return round(bleu([hypotheses[i] for i in rows], [references[i] for i in rows]), 2)


def by_length(pairs: list, score) -> dict:
    """score(rows) for the rows of `pairs` in each source-length bucket that has any."""
    out = {}
    for lo, hi in grammar.BUCKETS:
        rows = [i for i, p in enumerate(pairs) if lo <= len(p.src) <= hi]
        if rows:
            out[bucket_name((lo, hi))] = score(rows)
    return out


@torch.no_grad()
def forced_alignments(net: RNNsearch, pairs: list) -> list[np.ndarray]:
    """The attention (Ty, Tx) of RNNsearch while it reads each reference translation (teacher forcing)."""
    _, fr = vocabularies()
    dev = model_device(net)
    out = []
    for chunk in batches(pairs):
        src, lengths = encode_sources(chunk, dev)
        tgt_in = pad([[BOS] + fr.encode(p.tgt) for p in chunk]).to(dev)
        _, alphas = net(src, lengths, tgt_in)
        out += [alphas[r, :len(p.tgt), :len(p.src)].cpu().numpy() for r, p in enumerate(chunk)]
    return out


def alignment_error_rate(alignments: list[np.ndarray], pairs: list) -> float:
    """AER (Och & Ney 2003) of the argmax attention, one link per French word, against the gold links, all of them
    counted as sure: 1 - 2 |A & G| / (|A| + |G|)."""
    hit = predicted = gold = 0
    for alpha, pair in zip(alignments, pairs):
        links = {(int(j), i) for i, j in enumerate(alpha.argmax(1))}
        truth = set(map(tuple, pair.links))
        hit += len(links & truth)
        predicted += len(links)
        gold += len(truth)
    return 1 - 2 * hit / (predicted + gold)


def evaluate(model, data, config, deps):
    test = data.test
    refs = [p.tgt for p in test]
    long_rows = [i for i, p in enumerate(test) if len(p.src) >= LONG]
    metrics = {}
    for name in NETWORKS:
        hyps = translate_all(model.network(name), test)
        metrics[f"bleu_{name}"] = round(bleu(hyps, refs), 2)
        metrics[f"bleu_long_{name}"] = bleu_of(hyps, refs, long_rows)
        metrics.setdefault("bleu_by_length", {})[name] = by_length(test, functools.partial(bleu_of, hyps, refs))
        metrics[f"exact_{name}"] = round(float(np.mean([h == list(r) for h, r in zip(hyps, refs)])), 4)
    alignments = forced_alignments(model.rnnsearch, test)
    metrics["aer_rnnsearch"] = round(alignment_error_rate(alignments, test), 4)
    metrics["aer_by_length"] = by_length(
        test, lambda rows: round(alignment_error_rate([alignments[i] for i in rows], [test[i] for i in rows]), 4))
    metrics |= {"test_sentences": len(test), "long_sentences": len(long_rows), "train_pairs": len(data.train),
                "setting": setting(config)}
    return metrics


def setting(config: NmtConfig) -> str:
    return (f"synthetic English-French grammar, {config.train_pairs:,} training pairs of at most {config.max_len} "
            f"words, GRUs of {config.hidden}, words of {config.emb}, {config.steps:,} batches of "
            f"{config.batch_size}, "
            + (f"RNNsearch's encoder started from another sentence's end state for {config.carry:.0%} of them, "
               if config.carry else "")
            + f"weights averaged over training (decay {config.average:g}), greedy decoding "
            "(paper: WMT'14, 348M words, GRUs of 1000, words of 620, beam search)")


register(ModelSpec(
    name="nmt",
    title="RNNsearch and RNNenc translation (synthetic English-French)",
    page="attention",
    config_cls=NmtConfig,
    presets={
        "tiny": NmtConfig(emb=16, hidden=16, align=16, train_pairs=300, max_len=12, test_per_bucket=2, steps=20,
                          batch_size=16),
        "cpu": NmtConfig(),
        # Wider GRUs and five times the pairs; at most 0.07 s per step on an H200 shared with other runs
        # (python -m tests.bench.gpu_check out.json nmt): 35 minutes at most.
        "gpu": NmtConfig(emb=256, hidden=512, align=512, train_pairs=200000, steps=30000, batch_size=80),
    },
    build=NmtPair,
    data=load_data,
    train_step=train_step,
    optimizers=optimizers,
    evaluate=evaluate,
))


# ---------------------------------------------------------------- the page's calls

def test_pairs(config: NmtConfig) -> list:
    """The held-out test sentences, test_per_bucket per source-length bucket, in bucket order."""
    return grammar.test_set(config.seed + 1, config.test_per_bucket)


def translate(model: NmtPair, network: str, tokens, beam: int) -> Translation:
    """One English sentence (its tokens) translated by `network` with beam search of width `beam`."""
    en, fr = vocabularies()
    return beam_search(model.network(network), en.encode(tokens), beam, fr)


@torch.no_grad()
def read_reference(model: NmtPair, src, tgt) -> Translation:
    """RNNsearch reading a given French translation of `src` (teacher forcing): its attention for each word and
    for EOS, and log p(tgt, EOS | src). This is the attention the alignment error rate scores."""
    en, fr = vocabularies()
    net, dev = model.rnnsearch, model_device(model)
    ids = fr.encode(tgt) + [EOS]
    logits, alphas = net(torch.tensor([en.encode(src)], device=dev), torch.tensor([len(src)]),
                         torch.tensor([[BOS] + ids[:-1]], device=dev))
    log_prob = F.log_softmax(logits[0], -1).gather(1, torch.tensor(ids, device=dev)[:, None]).sum()
    return Translation(list(tgt), True, alphas[0].cpu().numpy(), float(log_prob))
