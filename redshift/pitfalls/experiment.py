"""One pitfalls experiment, batched over seeds: generate n datasets, draw n networks (n x ``ensemble``
for ensembles), train each on its own data (redshift.training), keep everything the evaluation needs
(Shah et al. 2020 §3, App. B).

One sample = one seed: its own data and rotation, its own initialisation, its own minibatch order.
With ``ensemble: k`` a seed trains k networks on the same data, each with its own initialisation and
minibatch order (App. E.1: "independently trained" models); the single-model measures read member 0.
"""
from dataclasses import dataclass, field

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
    ensemble: int = setting(1, min=1, max=64, doc="networks trained per seed on the same data (App. E.1)")
    network: NetworkSpec = setting(factory=lambda: NetworkSpec(input_dim=10, width=32, depth=1), doc="the MLP")
    training: TrainingSpec = setting(factory=lambda: TrainingSpec(lr=0.1, epochs=20, batch_size=256), doc="SGD")

    def check(self) -> None:
        if (max(self._slabs(), default=2) - 1) * self.margin >= 1:
            raise FieldError("margin", f"{self.margin!r} leaves no room for the blocks of {self.dataset}")
        if self.dataset == "lsn" and self.d < 3:
            raise FieldError("d", "lsn needs d >= 3 (linear, 3-slab, Gaussian noise)")
        if self.network.input_dim != self.d:
            raise FieldError("network.input_dim", f"must equal d = {self.d}, got {self.network.input_dim}")

    def to_mapping(self) -> dict:
        """The fields as plain data; ``ensemble`` only when it is not 1 (so single-model subjects keep
        the canonical spec, and hence the seeds, they had before ensembles existed)."""
        mapping = {**super().to_mapping(), "training": self.training.to_mapping()}
        if self.ensemble == 1:
            del mapping["ensemble"]
        return mapping

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
        if self.ensemble != 1:
            network += f"-x{self.ensemble}"
        loss = "" if t.loss == "logistic" else f"{t.loss},"
        return f"{data}:{network}:{t.label().replace('(', f'({loss}', 1)}"


@dataclass(frozen=True)
class Runs:
    """n trained networks with their data: train / test splits share each seed's rotation.
    ``initial`` / ``trained``: member 0 of each seed [n]; ``members``: all n x k trained networks
    (seed i's members are networks i k .. i k + k - 1), the same object as ``trained`` when k = 1."""

    spec: PitfallsSpec
    train: Dataset
    test: Dataset
    initial: Parameters
    trained: Parameters
    seed: int  # seeds the evaluation's permutations and swaps
    members: Parameters | None = None
    resolution: int = 64  # grid points per axis of the complexity probe (init_lz, trained_lz)
    cache: dict = field(default_factory=dict, compare=False, repr=False)  # computations shared by measures

    def logits(self, inputs: torch.Tensor, params: Parameters | None = None) -> torch.Tensor:
        """Logit differences [n, P] of network i on inputs[i] (``params``: default the trained member 0)."""
        params = self.trained if params is None else params
        bias = params.out_bias
        return predict(self.spec.network, params, inputs.to(bias.device, bias.dtype)).cpu()

    def member_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """[n, k, P]: every member of seed i on inputs[i] (inputs [n, P, d])."""
        k = self.spec.ensemble
        members = self.trained if self.members is None else self.members
        bias = members.out_bias
        repeated = inputs.to(bias.device, bias.dtype).repeat_interleave(k, dim=0)
        return predict(self.spec.network, members, repeated).cpu().reshape(inputs.shape[0], k, -1)


def run(spec: PitfallsSpec, n: int, seed: int, dtype: torch.dtype = torch.float32, device: str = "cpu",
        threads: int = 1, resolution: int = 64) -> Runs:
    """Generate, initialise and train n independent runs (n x k networks for ensembles of k) from
    ``seed`` (sub-seeds per role); all networks train in one batch."""
    k = spec.ensemble
    data = generate(spec.dataset, n, spec.n_train + spec.n_test, spec.d, derive_seed(seed, "data"),
                    noise=spec.noise, width=spec.block_width, margin=spec.margin, rotate=spec.rotate)
    train_set, test_set = data.split(spec.n_test)
    initial = sample_parameters(spec.network, n * k, derive_seed(seed, "init"), dtype).to(device)
    inputs, labels = train_set.inputs.to(device, dtype), train_set.labels.to(device, dtype)
    if k > 1:
        inputs, labels = inputs.repeat_interleave(k, dim=0), labels.repeat_interleave(k, dim=0)
    trained = train(spec.network, initial, inputs, labels, spec.training, derive_seed(seed, "order"), threads)
    if k == 1:
        return Runs(spec, train_set, test_set, initial, trained, derive_seed(seed, "evaluation"), resolution=resolution)
    return Runs(spec, train_set, test_set, initial.select(slice(0, None, k)), trained.select(slice(0, None, k)), derive_seed(seed, "evaluation"),
                members=trained, resolution=resolution)
