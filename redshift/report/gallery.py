"""Sample functions for the gallery (paper Figs. 1, 3, 4): one network per (magnitude, depth) cell.

The network shown in a cell is network 0 of that cell's sweep sample (the same seed, from its spec;
the sampler draws networks one after another, so the first of n equals the single one drawn with
n = 1), evaluated on a finer grid for display.
"""
from pathlib import Path

import numpy as np

from redshift.claims.measure import Measurer
from redshift.core import Settings
from redshift.report.progress import Progress
from redshift.report.sweep import SweepSettings, cell_subject, network_spec

GALLERY_ACTIVATIONS = ("relu", "tanh", "sine")
GALLERY_RESOLUTION = 128


def gallery_activations(settings: SweepSettings) -> tuple[str, ...]:
    """The gallery's activations among the sweep's (all of them when none of GALLERY_ACTIVATIONS is swept)."""
    return tuple(a for a in GALLERY_ACTIVATIONS if a in settings.activations) or settings.activations


def gallery_images(settings: SweepSettings, measurer: Measurer, activations=GALLERY_ACTIVATIONS,
                   resolution: int = GALLERY_RESOLUTION, show_progress: bool = True) -> dict[str, np.ndarray]:
    """{activation: [magnitudes, depths, resolution, resolution]} float64 outputs of network 0 per cell
    (the cell's seed, as the sweep: the sampler draws network by network, so network 0 of n is the one drawn with n = 1)."""
    cells = [(a, m, d) for a in activations for m in settings.magnitudes for d in settings.depths]
    images = {a: np.empty((len(settings.magnitudes), len(settings.depths), resolution, resolution))
              for a in activations}
    with Progress(len(cells), "gallery", enabled=show_progress) as bar:
        for activation, magnitude, depth in cells:
            subject = cell_subject(network_spec(activation, depth, magnitude, settings))
            y = measurer.outputs(subject, 1, Settings(resolution, "float64", measurer.device))
            i, j = settings.magnitudes.index(magnitude), settings.depths.index(depth)
            images[activation][i, j] = y[0].cpu().numpy()
            bar.advance(subject.label)
    return images


def save_images(images: dict[str, np.ndarray], path: Path) -> None:
    """The gallery's arrays as .npz (one array per activation): the numbers the figures show."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **images)
