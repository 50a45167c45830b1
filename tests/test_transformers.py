"""Unit tests for redshift.transformers: batched KV-cache decoding against the plain one-model GPT-2
decoded by recomputation, GPT-2 init statistics, seeding and chunking, the LZ78 count, spec
validation, and the claims source."""
import math

import numpy as np
import pytest
import torch

from redshift.metrics.reference import lz76_python
from redshift.core import SOURCES, Settings
from redshift.core import FieldError
from redshift.transformers import (
    Decoder, ReferenceGPT2, TransformerSpec, generate, greedy_recompute, lz78, sample_parameters, sample_sequences,
)
from redshift.transformers import sampling
from redshift.transformers.sequence_metrics import SEQUENCE_METRICS

SEED = 4321
ORACLE_SPECS = [
    TransformerSpec(vocab=50, width=16, heads=4, depth=2, tokens=12),
    TransformerSpec(vocab=40, width=12, heads=3, depth=3, tokens=10, activation="tanh", ln_gain=3.0),
    TransformerSpec(vocab=40, width=12, heads=2, depth=1, tokens=10, activation="sine", ln_gain=7.0, tied_head=False),
    *(TransformerSpec(vocab=30, width=8, heads=2, depth=2, tokens=8, activation=a, ln_gain=2.0)
      for a in ("relu", "selu", "gaussian")),
]


def naereen_lz(sequence) -> int:
    """ArmandNM complexity.lempel_ziv_complexity (Naereen), verbatim apart from tuples for token ids."""
    sub_strings = set()
    ind, inc = 0, 1
    sequence = tuple(sequence)
    while True:
        if ind + inc > len(sequence):
            break
        sub_str = sequence[ind: ind + inc]
        if sub_str in sub_strings:
            inc += 1
        else:
            sub_strings.add(sub_str)
            ind += inc
            inc = 1
    return len(sub_strings)


# --- batched cached decoding == plain per-model GPT-2 with recomputation ---------------------

@pytest.mark.parametrize("spec", ORACLE_SPECS, ids=lambda s: s.label())
def test_cached_batched_logits_match_the_reference_model(spec):
    params = sample_parameters(spec, SEED, 0, 3, torch.float64)
    ids = generate(spec, params)
    decoder = Decoder(spec, params)
    cached = torch.stack([decoder.step(ids[:, t]) for t in range(spec.length)], dim=1)  # [n, length, vocab]
    for i in range(params.n):
        with torch.no_grad():
            full = ReferenceGPT2(spec, params, i)(ids[i])
        scale = full.abs().max().clamp(min=1.0)
        assert ((cached[i] - full).abs().max() / scale).item() < 1e-10


@pytest.mark.parametrize("spec", ORACLE_SPECS, ids=lambda s: s.label())
def test_greedy_decoding_with_the_cache_equals_recomputation(spec):
    params = sample_parameters(spec, SEED, 0, 4, torch.float64)
    ids = generate(spec, params)
    assert ids.shape == (4, spec.length) and ids.dtype == torch.int64
    for i in range(params.n):
        expected = greedy_recompute(ReferenceGPT2(spec, params, i), int(params.prompt[i]), spec.tokens)
        assert torch.equal(ids[i], expected)


def test_each_sequence_has_its_own_model():
    spec = ORACLE_SPECS[0]
    params = sample_parameters(spec, SEED, 0, 3)
    assert not torch.equal(params.wte[0], params.wte[1])
    alone = generate(spec, params.model(1))
    assert torch.equal(alone[0], generate(spec, params)[1])


def test_decoder_refuses_positions_past_the_cache():
    spec = ORACLE_SPECS[0]
    params = sample_parameters(spec, SEED, 0, 1)
    decoder = Decoder(spec, params)
    for _ in range(spec.length):
        decoder.step(params.prompt)
    with pytest.raises(ValueError, match="cache holds"):
        decoder.step(params.prompt)


# --- GPT-2 initialisation, seeding, chunking ---------------------------------------------------

def test_gpt2_default_init_statistics():
    spec = TransformerSpec(vocab=256, width=64, heads=4, depth=3, tokens=4)
    p = sample_parameters(spec, SEED, 0, 8)
    residual = 0.02 / math.sqrt(2 * spec.depth)
    for tensor, std in ((p.wte, 0.02), (p.wpe, 0.02), (p.qkv, 0.02), (p.fc, 0.02),
                        (p.attn_proj, residual), (p.mlp_proj, residual)):
        assert abs(tensor.mean().item()) < 0.05 * std
        assert tensor.std().item() == pytest.approx(std, rel=0.03)
    assert p.head is None and p.unembedding is p.wte
    assert p.prompt.min() >= 0 and p.prompt.max() < spec.vocab


def test_same_seed_same_sequences_any_n_chunking_and_dtype(monkeypatch):
    spec = TransformerSpec(vocab=64, width=16, heads=2, depth=2, tokens=10, activation="tanh", ln_gain=3.0)
    ids = sample_sequences(spec, 6, SEED)
    assert torch.equal(ids, sample_sequences(spec, 6, SEED))
    assert torch.equal(ids[:4], sample_sequences(spec, 4, SEED))
    monkeypatch.setitem(sampling.CHUNK_ENTRIES, "cpu", spec.parameter_count * 4)  # chunks of 4 models
    assert torch.equal(ids, sample_sequences(spec, 6, SEED))
    assert not torch.equal(ids, sample_sequences(spec, 6, SEED + 1))
    p32, p64 = sample_parameters(spec, SEED, 0, 2, torch.float32), sample_parameters(spec, SEED, 0, 2, torch.float64)
    # the same float32 draws, scaled in each dtype: both dtypes see the same models up to float32 rounding
    torch.testing.assert_close(p32.wte.double(), p64.wte, rtol=1e-7, atol=0.0)


def test_iid_tokens_are_uniform_and_seeded():
    spec = TransformerSpec(model="iid_tokens", vocab=10, tokens=999)
    ids = sample_sequences(spec, 20, SEED)
    assert ids.shape == (20, 1000) and torch.equal(ids, sample_sequences(spec, 20, SEED))
    counts = torch.bincount(ids.flatten(), minlength=10).double()
    assert ((counts - 2000).abs() < 200).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    spec = ORACLE_SPECS[1]
    cpu = sample_sequences(spec, 8, SEED, torch.float64)
    assert torch.equal(cpu, sample_sequences(spec, 8, SEED, torch.float64, "cuda"))


# --- sequence metrics ------------------------------------------------------------------------

def test_lz78_golden_and_against_the_public_code():
    assert lz78(np.array([int(c) for c in "1001111011000010"])) == 8  # the public code's doctest
    assert lz78(np.zeros(41, dtype=np.int64)) == 8  # 1+2+...+8 = 36 symbols, 5 left over uncounted
    rng = np.random.default_rng(0)
    rows = np.concatenate([rng.integers(0, 3, (50, 60)), rng.integers(0, 1000, (50, 60)),
                           np.repeat(rng.integers(0, 5, (50, 6)), 10, axis=1)])
    assert lz78(rows).tolist() == [naereen_lz(r) for r in rows]
    with pytest.raises(ValueError, match="integer ids"):
        lz78(np.zeros(4))


def test_sequence_metrics_per_token():
    ids = torch.tensor([[7, 7, 7, 7, 7, 7, 7, 7], [1, 2, 3, 4, 5, 6, 7, 8], [5, 9, 5, 9, 5, 9, 5, 9]])
    for row, per_token in zip(ids, SEQUENCE_METRICS["lz76_per_token"](ids)):
        assert per_token == lz76_python(row) / 8
    assert SEQUENCE_METRICS["lz78_per_token"](ids).tolist() == [3 / 8, 1.0, 4 / 8]  # 7|77|777; 5|9|59|595
    assert SEQUENCE_METRICS["distinct_tokens"](ids).tolist() == [1.0, 8.0, 2.0]


# --- spec validation, labels and the claims source ---------------------------------------------

@pytest.mark.parametrize("mapping, field, fragment", [
    ({"activation": "gelu_new"}, "activation", "unknown value 'gelu_new'"),
    ({"model": "gpt3"}, "model", "allowed: gpt2, iid_tokens"),
    ({"width": 130, "heads": 4}, "heads", "not divisible"),
    ({"depth": 0}, "depth", ">= 1"),
    ({"vocab": 1}, "vocab", ">= 2"),
    ({"tokens": 4.0}, "tokens", "integer"),
    ({"ln_gain": "1e-1"}, "ln_gain", "1.0e-1"),
    ({"ln_gain": -1.0}, "ln_gain", ">= 0"),
    ({"tied_head": "yes"}, "tied_head", "true or false"),
    ({"blocks": 3}, "blocks", "unknown key"),
])
def test_spec_rejects_bad_input(mapping, field, fragment):
    with pytest.raises(FieldError) as info:
        TransformerSpec.from_mapping(mapping)
    assert info.value.field == field and fragment in info.value.message


def test_labels():
    assert TransformerSpec().label() == "gpt2-gelu-d4-w128-h4-v1024-ln1-T40"
    assert TransformerSpec(activation="sine", ln_gain=7.35, tied_head=False).label() == \
        "gpt2-sine-d4-w128-h4-v1024-ln7.35-untied-T40"
    assert TransformerSpec(model="iid_tokens", vocab=50257, tokens=100).label() == "iid-tokens-v50257-T100"


def test_source_merges_settings_and_measures():
    source = SOURCES["transformer"]
    spec = source.parse({"activation": "tanh"}, {"width": 16, "heads": 2, "vocab": 32, "depth": 1, "tokens": 6})
    assert spec == TransformerSpec(activation="tanh", width=16, heads=2, vocab=32, depth=1, tokens=6)
    with pytest.raises(ValueError, match="field 'heads'"):
        source.parse({"heads": 3}, {"width": 16})
    ids = source.sample(spec, 5, SEED, Settings(dtype="float64"))
    assert ids.shape == (5, 7)
    assert set(source.metrics) == {"lz76_per_token", "lz78_per_token", "distinct_tokens"}
    values = source.measure(ids, "lz78_per_token")
    assert values.shape == (5,) and ((values > 0) & (values <= 1)).all()


def test_case_file_errors_name_the_field(tmp_path):
    from redshift.claims.schema import CaseFileError, load_case_file

    path = tmp_path / "bad.yaml"
    path.write_text("claims:\n  - {id: x, kind: bounded, subject: {source: transformer, activation: gelu2},"
                    " metrics: {lz78_per_token: {max: 0.5}}}\n")
    with pytest.raises(CaseFileError, match=r"claim 'x': field 'subject.activation': unknown value 'gelu2'"):
        load_case_file(path, "bad.yaml")
    path.write_text("claims:\n  - {id: x, kind: bounded, subject: {source: transformer}, metrics: {lz: {max: 0.5}}}\n")
    with pytest.raises(CaseFileError, match="unknown metric 'lz' for transformer subjects"):
        load_case_file(path, "bad.yaml")
