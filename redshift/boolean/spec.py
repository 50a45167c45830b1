"""Boolean-function subjects (Valle-Perez, Camargo & Louis 2019): frozen, validated, built from YAML.

``model: mlp`` is a fully connected network ``input_dim -> width x depth -> 1`` with i.i.d. Gaussian
parameters, evaluated on all 2^input_dim points of the Boolean cube and thresholded (output > 0) to a
truth table; ``model: uniform`` is the reference subject: every truth-table bit an independent fair
coin. One sample of a subject is one *replicate* of ``networks`` truth tables. Every field has a
default, so a partial mapping is a valid spec.
"""
from dataclasses import dataclass
from typing import Literal

from redshift.core import FieldError
from redshift.networks.spec import ACTIVATION_NAMES, number_text
from redshift.parse import Spec, setting

MODELS = ("mlp", "uniform")
INPUTS = ("binary", "signed")  # rows of {0,1}^n, or the same rows mapped to {-1,1}^n (0 -> -1)
MAX_INPUT_DIM = 10  # 1024-point truth tables: 16 uint64 words per function


@dataclass(frozen=True)
class BooleanSpec(Spec):
    """One distribution over Boolean functions {0,1}^input_dim -> {0,1}.

    Parameters of ``model: mlp`` (one network per function): hidden and output weights
    W ~ N(0, sigma_w^2 / fan_in), biases b ~ N(0, sigma_b^2); hidden layers use ``activation``, the
    scalar output is linear and the function is f(x) = [output(x) > 0].
    ``inputs`` says how the cube's rows are fed to the network: binary {0,1} (as Valle-Perez et al.)
    or signed {-1,1}. ``networks`` is M, the functions of one replicate (one sample of the subject);
    ``top`` is K of the metric top_share.
    """

    model: Literal[MODELS] = setting("mlp", doc="mlp (random networks) or uniform (fair-coin truth tables, the reference)")
    input_dim: int = setting(7, min=1, max=MAX_INPUT_DIM, doc="n: the functions are on the 2^n points of {0,1}^n")
    inputs: Literal[INPUTS] = setting("binary", doc="binary: inputs in {0,1}; signed: the same rows in {-1,1}")
    activation: str = setting("relu", choices=ACTIVATION_NAMES, doc="hidden-layer activation")
    width: int = setting(40, min=1, max=1024, doc="hidden units per layer")
    depth: int = setting(2, min=1, max=8, doc="hidden layers")
    sigma_w: float = setting(1.0, min=0, doc="weight scale: W ~ N(0, sigma_w^2 / fan_in)")
    sigma_b: float = setting(1.0, min=0, doc="bias scale: b ~ N(0, sigma_b^2)")
    networks: int = setting(10000, min=2, doc="M: functions per replicate (one sample)")
    top: int = setting(10, min=1, doc="K of top_share: the K most frequent functions of a replicate")

    def check(self) -> None:
        if self.top >= self.networks:
            raise FieldError("top", f"must be smaller than networks ({self.networks}), got {self.top}")

    @property
    def points(self) -> int:
        """Rows of the truth table: 2^input_dim."""
        return 2 ** self.input_dim

    @property
    def parameter_count(self) -> int:
        """Parameters of one network (0 for the uniform model)."""
        if self.model == "uniform":
            return 0
        n, w = self.input_dim, self.width
        return n * w + w + (self.depth - 1) * (w * w + w) + w + 1

    def label(self) -> str:
        """e.g. ``bool7-relu-40x2-sw1-sb1-M10000`` or ``bool7-uniform-M10000``."""
        suffix = f"-M{self.networks}" + ("" if self.top == 10 else f"-top{self.top}")
        if self.model == "uniform":
            return f"bool{self.input_dim}-uniform{suffix}"
        signed = "-pm1" if self.inputs == "signed" else ""
        return (f"bool{self.input_dim}{signed}-{self.activation}-{self.width}x{self.depth}"
                f"-sw{number_text(self.sigma_w)}-sb{number_text(self.sigma_b)}{suffix}")
