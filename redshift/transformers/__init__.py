"""Random GPT-2-style transformers (paper §5): spec, GPT-2 init, batched greedy decoding
with a KV cache, a plain one-model oracle, sequence complexity metrics, and the claims source."""
from redshift.transformers.decode import Decoder, generate
from redshift.transformers.parameters import TransformerParameters, sample_parameters
from redshift.transformers.reference import ReferenceGPT2, greedy_recompute
from redshift.transformers.sampling import sample_sequences
from redshift.transformers.sequence_metrics import SEQUENCE_METRICS, lz78
from redshift.transformers.spec import TransformerSpec

__all__ = [
    "Decoder", "ReferenceGPT2", "SEQUENCE_METRICS", "TransformerParameters", "TransformerSpec", "generate",
    "greedy_recompute", "lz78", "sample_parameters", "sample_sequences",
]
