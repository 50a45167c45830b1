"""Sample functions for the gallery (paper Figs. 1, 3, 4): one network per (magnitude, depth) cell.

The network shown in a cell is network 0 of that cell's sweep sample (same seed key, the label;
the sampler draws networks one after another, so the first of n equals the single one drawn with
n = 1), evaluated on a finer grid for display.
"""
from pathlib import Path

import numpy as np

from redshift.networks import sample_grid
from redshift.report.progress import Progress
from redshift.report.sweep import SweepSettings, network_spec
from redshift.seeding import derive_seed

GALLERY_ACTIVATIONS = ("relu", "tanh", "sine")
GALLERY_RESOLUTION = 128


def gallery_images(settings: SweepSettings, activations=GALLERY_ACTIVATIONS, resolution: int = GALLERY_RESOLUTION,
                   device: str = "cpu", show_progress: bool = True) -> dict[str, np.ndarray]:
    """{activation: [magnitudes, depths, resolution, resolution]} float64 outputs of network 0 per cell."""
    cells = [(a, m, d) for a in activations for m in settings.magnitudes for d in settings.depths]
    images = {a: np.empty((len(settings.magnitudes), len(settings.depths), resolution, resolution))
              for a in activations}
    with Progress(len(cells), "gallery", enabled=show_progress) as bar:
        for activation, magnitude, depth in cells:
            spec = network_spec(activation, depth, magnitude, settings)
            y = sample_grid(spec, 1, derive_seed(settings.seed, spec.label()), resolution, device=device)
            i, j = settings.magnitudes.index(magnitude), settings.depths.index(depth)
            images[activation][i, j] = y[0].cpu().numpy()
            bar.advance(spec.label())
    return images


def save_images(images: dict[str, np.ndarray], path: Path) -> None:
    """The gallery's arrays as .npz (one array per activation): the numbers the figures show."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **images)
