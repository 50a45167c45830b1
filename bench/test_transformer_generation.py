"""Random-transformer generation (redshift.transformers.generate): n independent GPT-2-style models,
greedy decoding with a key/value cache, one bmm per layer over the n models; against the plain
one-model GPT-2 decoded by recomputing the whole prefix for every token (ReferenceGPT2 +
greedy_recompute, the way a per-sequence loop over torch.nn models runs it).

Cases live here rather than in bench/params.py (owned by the harness): ids follow its convention,
``generation[w128-d4-v1024-T40-b64-float32-cpu]``. extra_info: sequences/s (items_per_s),
tokens_per_s (generated tokens), GFLOP/s and the reference's time.
"""
from dataclasses import dataclass

import pytest
import torch

from bench import core
from bench.params import SEED
from redshift.transformers import Decoder, ReferenceGPT2, TransformerSpec, generate, greedy_recompute, sample_parameters

GENERATION_FLOP_BUDGET = 10e9  # --tier ci times cases up to this many FLOP per call (memory-bound: ~1 s on 2 cores)


@dataclass(frozen=True)
class GenerationCase:
    """``batch`` random GELU GPT-2s of the given size, each decoding ``tokens`` tokens from one prompt token."""

    width: int
    heads: int
    depth: int
    vocab: int
    tokens: int
    batch: int
    dtype: str = "float32"

    @property
    def id(self) -> str:
        return f"w{self.width}-d{self.depth}-v{self.vocab}-T{self.tokens}-b{self.batch}-{self.dtype}"

    def spec(self) -> TransformerSpec:
        return TransformerSpec(vocab=self.vocab, width=self.width, heads=self.heads, depth=self.depth,
                               tokens=self.tokens)

    @property
    def flop(self) -> int:
        """Matmul FLOP per call: per model and position t (t + 1 keys), 2 x (12 width^2 per block for
        qkv, projection and the 4x MLP, + 2 (t + 1) width per block for scores and mixing, + vocab x
        width for the logits). Layer norms, softmax and activations (O(width)) are not counted."""
        d, layers = self.width, self.depth
        per_model = sum(2 * (layers * (12 * d * d + 2 * (t + 1) * d) + self.vocab * d) for t in range(self.tokens))
        return self.batch * per_model

    @property
    def smoke(self) -> bool:
        return self.width == 64

    @property
    def cost(self) -> float:
        return self.flop / GENERATION_FLOP_BUDGET


GENERATION_CASES = [
    GenerationCase(64, 4, 2, 256, 16, 8),           # smoke: the correctness run in CI
    GenerationCase(128, 4, 4, 1024, 40, 64),        # the claims' CI model (cases/transformers.yaml)
    GenerationCase(128, 4, 4, 1024, 40, 256),
    GenerationCase(768, 12, 12, 50257, 100, 8),     # GPT-2 small, the paper's setting (--tier full)
    GenerationCase(768, 12, 12, 50257, 100, 64),
]


@pytest.mark.cases(GENERATION_CASES)
def test_generation(bench, case, device):
    spec = case.spec()
    dtype = core.DTYPE[case.dtype]
    params = sample_parameters(spec, SEED, 0, case.batch, dtype, device)
    ids = bench.run(lambda: generate(spec, params))
    assert ids.shape == (case.batch, spec.length) and ids.dtype == torch.int64
    host = sample_parameters(spec, SEED, 0, 1, dtype)  # model 0 on the CPU for the plain reference
    decoder = Decoder(spec, params.model(0))
    cached = torch.stack([decoder.step(ids[:1, t])[0] for t in range(spec.length)])
    with torch.no_grad():
        expected = ReferenceGPT2(spec, host, 0)(ids[0].cpu())
    core.assert_matches(cached, expected, dtype, f"{bench.key}: cached logits vs the plain GPT-2")
    # The reference's time per sequence is model 0's (build the module, decode by recomputation), times batch.
    reference = bench.reference(
        "per-model plain GPT-2, prefix recomputed per token",
        lambda _: greedy_recompute(ReferenceGPT2(spec, host, 0), int(host.prompt[0]), spec.tokens),
        case.batch, "sequences", share=("generation-recompute", case.id))
    tokens = case.batch * spec.tokens  # generated tokens per call
    bench.record(items=case.batch, unit="sequences", flop=case.flop, reference=reference, tokens=tokens,
                 tokens_per_s=tokens / bench.benchmark.stats.stats.median if bench.timing else None)
