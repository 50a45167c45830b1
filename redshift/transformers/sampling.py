"""n generated sequences of a ``TransformerSpec``, in chunks of models that fit a memory budget."""
import torch
from torch import Tensor

from redshift.transformers.decode import generate
from redshift.transformers.parameters import sample_parameters
from redshift.transformers.spec import TransformerSpec

#: Weight entries held at once (all models of a chunk): 2**26 = 512 MiB in float64 on CPU;
#: 2**31 on CUDA (8 GiB in float32: 17 GPT-2-small models per chunk).
CHUNK_ENTRIES = {"cpu": 2**26, "cuda": 2**31}


def sample_sequences(spec: TransformerSpec, n: int, seed: int, dtype: torch.dtype = torch.float64,
                     device: str = "cpu") -> Tensor:
    """Token ids [n, tokens + 1] (int64, CPU) of n independent sequences from the stream ``seed``.

    gpt2: model i (prompt and weights from ``derive_seed(seed, "model", i)``) decodes greedily.
    iid_tokens: every id uniform over the vocabulary, from a CPU generator seeded with ``seed``.
    Sequence i does not depend on n or on the chunking.
    """
    if spec.model == "iid_tokens":
        gen = torch.Generator().manual_seed(seed)
        return torch.randint(spec.vocab, (n, spec.length), generator=gen)
    chunk = max(1, CHUNK_ENTRIES[torch.device(device).type] // spec.parameter_count)
    parts = [generate(spec, sample_parameters(spec, seed, start, min(start + chunk, n), dtype, device)).cpu()
             for start in range(0, n, chunk)]
    return torch.cat(parts)
