"""One pitfalls experiment, batched over seeds: generate n datasets, draw n networks, train each on
its own data (redshift.training), keep everything the evaluation needs (notes §2.3, §3).

One sample = one seed: its own data and rotation, its own initialisation, its own minibatch order.
"""
import contextlib
from dataclasses import dataclass

import torch

from redshift.core import FieldError
from redshift.networks import NetworkSpec, Parameters, sample_parameters
from redshift.parse import Spec, setting
from redshift.pitfalls.datasets import DATASETS, Dataset, generate
from redshift.seeding import derive_seed
from redshift.training import TrainingSpec, predict, train


@dataclass(frozen=True)
class PitfallsSpec(Spec):
    """Dataset ``dataset`` in dimension d (blocks of width ``block_width``, margin ``margin``, noisy
    fraction ``noise``), ``n_train`` + ``n_test`` points, a network (input_dim is set to d) and SGD."""

    dataset: str = setting("lms-5", choices=tuple(DATASETS), doc="linear + k-slab dataset (Shah et al. §3)")
    d: int = setting(10, min=2, doc="input dimension")
    n_train: int = setting(2000, min=1, doc="training points")
    n_test: int = setting(2000, min=2, doc="test points")
    noise: float = setting(0.1, min=0, max=1, noun="fraction", doc="noisy fraction of the noisy datasets")
    block_width: float = setting(1.0, min=0, min_open=True, doc="width of the slab blocks")
    margin: float = setting(0.1, min=0, doc="margin between blocks")
    rotate: bool = setting(True, doc="random rotation of the coordinates")
    network: NetworkSpec = setting(factory=lambda: NetworkSpec(input_dim=10, width=32, depth=1), doc="the MLP")
    training: TrainingSpec = setting(factory=lambda: TrainingSpec(lr=0.1, epochs=20, batch_size=256), doc="SGD")

    def check(self) -> None:
        if (max(self._slabs(), default=2) - 1) * self.margin >= 1:
            raise FieldError("margin", f"{self.margin!r} leaves no room for the blocks of {self.dataset}")
        if self.dataset == "lsn" and self.d < 3:
            raise FieldError("d", "lsn needs d >= 3 (linear, 3-slab, Gaussian noise)")
        if self.network.input_dim != self.d:
            raise FieldError("network.input_dim", f"must equal d = {self.d}, got {self.network.input_dim}")

    def _slabs(self) -> list[int]:
        return [int(part) for part in self.dataset.split("-") if part.isdigit()]

    def label(self) -> str:
        """e.g. ``lms-5-d10-n2000/2000:mlp-relu-d1-w32-...:sgd(lr0.1,m0,wd0,e20,b256)``; non-default
        noise, block width, margin and rotation are shown."""
        t = self.training
        data = f"{self.dataset}-d{self.d}-n{self.n_train}/{self.n_test}"
        for name, default in (("noise", 0.1), ("block_width", 1.0), ("margin", 0.1)):
            if getattr(self, name) != default:
                data += f"-{name}{getattr(self, name):g}"
        if not self.rotate:
            data += "-unrotated"
        network = self.network.label().replace(f"-in{self.d}", "")
        loss = "" if t.loss == "logistic" else f"{t.loss},"
        return (f"{data}:{network}:sgd({loss}lr{t.lr:g},m{t.momentum:g},wd{t.weight_decay:g},"
                f"e{t.epochs},b{t.batch_size})")


@dataclass(frozen=True)
class Runs:
    """n trained networks with their data: train / test splits share each seed's rotation."""

    spec: PitfallsSpec
    train: Dataset
    test: Dataset
    initial: Parameters
    trained: Parameters
    seed: int  # seeds the evaluation's permutations and swaps

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logit differences [n, P] of network i on inputs[i]."""
        bias = self.trained.out_bias
        return predict(self.spec.network, self.trained, inputs.to(bias.device, bias.dtype)).cpu()


@contextlib.contextmanager
def torch_threads(count: int):
    """Pin torch's intra-op threads (small matmuls are much faster on one thread); restore afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run(spec: PitfallsSpec, n: int, seed: int, dtype: torch.dtype = torch.float32, device: str = "cpu",
        threads: int = 1) -> Runs:
    """Generate, initialise and train n independent runs from ``seed`` (sub-seeds per role)."""
    data = generate(spec.dataset, n, spec.n_train + spec.n_test, spec.d, derive_seed(seed, "data"),
                    noise=spec.noise, width=spec.block_width, margin=spec.margin, rotate=spec.rotate)
    train_set, test_set = data.split(spec.n_test)
    initial = sample_parameters(spec.network, n, derive_seed(seed, "init"), dtype).to(device)
    with torch_threads(threads):
        trained = train(spec.network, initial, train_set.inputs.to(device, dtype), train_set.labels.to(device, dtype),
                        spec.training, derive_seed(seed, "order"))
    return Runs(spec, train_set, test_set, initial, trained, derive_seed(seed, "evaluation"))
