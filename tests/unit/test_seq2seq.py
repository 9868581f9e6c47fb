"""RNNsearch / RNNenc (slides 27-29, 104-110): attention shapes, a learned monotone alignment, BLEU and AER."""
import numpy as np
import pytest
import torch

from engine.models import seq2seq
from engine.models.seq2seq import EOS, PAD, NmtConfig, RNNenc, RNNsearch

SMALL = NmtConfig(emb=16, hidden=32, align=32)


def batch(n_words: int, lengths: list[int], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    src = torch.full((len(lengths), max(lengths)), PAD)
    for r, n in enumerate(lengths):
        src[r, :n] = torch.randint(4, n_words, (n,), generator=g)
    return src, torch.tensor(lengths)


def test_attention_rows_sum_to_one_and_skip_padding():
    torch.manual_seed(0)
    net = RNNsearch(20, 30, SMALL)
    src, lengths = batch(20, [5, 3, 7])
    logits, alphas = net(src, lengths, torch.randint(4, 30, (3, 6)))
    assert logits.shape == (3, 6, 30) and alphas.shape == (3, 6, 7)           # (B, Ty, V), (B, Ty, Tx)
    torch.testing.assert_close(alphas.sum(-1), torch.ones(3, 6))
    assert alphas[1, :, 3:].abs().max() == 0                                  # padding gets no attention
    assert torch.isfinite(logits).all()


def test_teacher_forcing_matches_step_by_step_decoding():
    torch.manual_seed(0)
    for net in (RNNsearch(20, 30, SMALL), RNNenc(20, 30, SMALL)):
        src, lengths = batch(20, [6, 4])
        tgt_in = torch.randint(4, 30, (2, 5))
        logits, _ = net(src, lengths, tgt_in)
        memory = net.encode(src, lengths)
        s = memory["s"]
        for i in range(5):
            step_logits, s, _ = net.step(memory, s, tgt_in[:, i])
            torch.testing.assert_close(step_logits, logits[:, i], atol=1e-5, rtol=1e-4)


def test_padding_does_not_change_a_sentence_encoding():
    torch.manual_seed(0)
    for net in (RNNsearch(20, 30, SMALL), RNNenc(20, 30, SMALL)):
        src, lengths = batch(20, [4])
        padded = torch.cat([src, torch.full((1, 5), PAD)], 1)
        torch.testing.assert_close(net.encode(src, lengths)["s"], net.encode(padded, lengths)["s"])


def test_a_carried_start_reads_a_sentence_as_if_it_stood_inside_a_longer_text():
    torch.manual_seed(0)
    net, h = RNNsearch(20, 30, SMALL), SMALL.hidden
    (a,), _ = batch(20, [4])
    (b,), _ = batch(20, [5], seed=1)
    _, end = net.read(a[None], torch.tensor([4]))                                 # (2, 1, H): a read both ways
    started = net.encode(b[None], torch.tensor([5]), end)["h"][0]                  # (5, 2H)
    after = net.encode(torch.cat([a, b])[None], torch.tensor([9]))["h"][0]         # a b: forward GRU reads a first
    before = net.encode(torch.cat([b, a])[None], torch.tensor([9]))["h"][0]        # b a: backward GRU reads a first
    torch.testing.assert_close(started[:, :h], after[4:, :h])
    torch.testing.assert_close(started[:, h:], before[:5, h:])


def test_carried_states_are_other_sentences_end_states_or_zeros():
    torch.manual_seed(0)
    net = RNNsearch(20, 30, SMALL)
    src, lengths = batch(20, [5, 3, 7, 4, 6, 2])
    _, ends = net.read(src, lengths)                                              # (2, 6, H)
    g = torch.Generator().manual_seed(0)
    assert not seq2seq.carried_states(net, src, lengths, 0.0, g).any()
    every = seq2seq.carried_states(net, src, lengths, 1.0, g)
    assert every.shape == ends.shape
    # Each row is the end state of one sentence of the batch, both directions from the same one; all are used.
    sources = [next(k for k in range(6) if torch.allclose(every[:, r], ends[:, k])) for r in range(6)]
    assert sorted(sources) == list(range(6))
    half = seq2seq.carried_states(net, src, lengths, 0.5, torch.Generator().manual_seed(1))
    zero_rows = int((half.abs().sum((0, 2)) == 0).sum())
    assert 0 < zero_rows < 6


def test_served_weights_are_a_running_average_of_the_trained_ones():
    config = NmtConfig(emb=8, hidden=8, align=8, train_pairs=200, max_len=10, test_per_bucket=1, batch_size=8,
                       average=0.5)
    data = seq2seq.load_data(config)
    torch.manual_seed(0)
    model = seq2seq.NmtPair(config)
    opts = seq2seq.optimizers(model, config)
    for name in seq2seq.NETWORKS:          # both start from the same weights
        for a, w in zip(model.network(name).parameters(), model.trained[name].parameters()):
            torch.testing.assert_close(a, w)
    g = torch.Generator().manual_seed(0)
    served = [p.clone() for p in model.rnnsearch.parameters()]
    for step in range(12):
        seq2seq.train_step(model, data, config, g, opts)
        # The decay grows as (1 + t) / (10 + t) until it reaches `average`.
        d = min(0.5, (1 + step) / (10 + step))
        served = [d * a + (1 - d) * w for a, w in zip(served, model.trained["rnnsearch"].parameters())]
        for a, expected in zip(model.rnnsearch.parameters(), served):
            torch.testing.assert_close(a, expected)
    assert int(model.steps_done) == 12
    moved = [not torch.equal(a, w) for a, w in zip(model.rnnsearch.parameters(), model.trained["rnnsearch"].parameters())]
    assert any(moved)


def copy_task(generator: torch.Generator, size: int = 32) -> tuple:
    """Sources of 4-8 random words; the target writes word w as w + 10 in the same order, then EOS."""
    lengths = torch.randint(4, 9, (size,), generator=generator)
    src = torch.full((size, 8), PAD)
    tgt = torch.full((size, 10), PAD)
    tgt[:, 0] = seq2seq.BOS
    for r, n in enumerate(lengths.tolist()):
        words = torch.randint(4, 14, (n,), generator=generator)
        src[r, :n] = words
        tgt[r, 1:n + 1] = words + 10
        tgt[r, n + 1] = EOS
    return src, lengths, tgt


def test_monotone_task_learns_a_diagonal_alignment():
    torch.manual_seed(0)
    net = RNNsearch(14, 24, SMALL)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for _ in range(250):
        src, lengths, tgt = copy_task(g)
        logits, _ = net(src, lengths, tgt[:, :-1])
        loss = seq2seq.token_loss(logits, tgt[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    src, lengths, tgt = copy_task(torch.Generator().manual_seed(99), 64)
    with torch.no_grad():
        _, alphas = net(src, lengths, tgt[:, :-1])
    offsets = torch.cat([alphas[r, :n, :n].argmax(-1) - torch.arange(n) for r, n in enumerate(lengths.tolist())])
    # Output word i attends most to source word i, or to a neighbour (the bidirectional annotations overlap).
    assert (offsets == 0).float().mean() >= 0.75
    assert (offsets.abs() <= 1).float().mean() >= 0.97


def test_beam_search_returns_the_alignment_of_its_words():
    torch.manual_seed(0)
    en, fr = seq2seq.vocabularies()
    net = RNNsearch(len(en), len(fr), SMALL)
    out = seq2seq.beam_search(net, [5, 6, 7, 8], 3, fr)
    assert out.alignment.shape == (len(out.words) + out.ended, 4)
    np.testing.assert_allclose(out.alignment.sum(1), 1, rtol=1e-5)
    greedy_ids, _ = seq2seq.greedy(net, torch.tensor([[5, 6, 7, 8]]), torch.tensor([4]))
    assert seq2seq.beam_search(net, [5, 6, 7, 8], 1, fr).words == fr.decode(greedy_ids[0].tolist())


def test_reading_a_reference_gives_one_attention_row_per_word_and_the_end():
    torch.manual_seed(0)
    model = seq2seq.NmtPair(SMALL)
    src, tgt = ("the", "red", "car", "sleeps"), ("la", "voiture", "rouge", "dort")
    out = seq2seq.read_reference(model, src, tgt)
    assert out.words == list(tgt) and out.ended and out.alignment.shape == (5, 4)
    np.testing.assert_allclose(out.alignment.sum(1), 1, rtol=1e-5)
    assert out.log_prob < 0


def test_bleu_of_a_perfect_hypothesis_is_100_and_of_a_wrong_one_is_low():
    refs = [("la", "voiture", "rouge", "roule", "vite"), ("le", "chat", "noir", "dort", "ici")]
    assert seq2seq.bleu([list(r) for r in refs], refs) == pytest.approx(100)
    assert seq2seq.bleu([["le", "chien"], ["une", "maison"]], refs) < 10


def test_alignment_error_rate_counts_links():
    class Pair:
        links = ((0, 0), (1, 2), (2, 1))
    alpha = np.eye(3)[[0, 2, 1]]                                              # output i attends to source links
    assert seq2seq.alignment_error_rate([alpha], [Pair()]) == pytest.approx(0)
    assert seq2seq.alignment_error_rate([np.eye(3)], [Pair()]) == pytest.approx(1 - 2 * 1 / 6)
