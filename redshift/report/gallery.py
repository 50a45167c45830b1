"""Sample functions for the gallery (paper Figs. 1, 3, 4): one network per (magnitude, depth) cell.

The network shown in a cell is network 0 of that cell's sweep sample (the same seed, from its spec;
the sampler draws networks one after another, so the first of n equals the single one drawn with
n = 1), evaluated on a finer grid for display. The gallery shows the sweep's activations (those of
GALLERY_ACTIVATIONS it has, else all), and its cells are sampled together: the cells of one depth
(every activation and magnitude) in one batched forward (Measurer.outputs_many).
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
    subjects = [cell_subject(network_spec(a, d, m, settings)) for a, m, d in cells]
    output_settings = Settings(resolution, "float64", measurer.device)
    by_depth: dict[int, list[int]] = {}
    for i, (_, _, depth) in enumerate(cells):
        by_depth.setdefault(depth, []).append(i)
    with Progress(len(cells), "gallery", enabled=show_progress) as bar:
        for indices in by_depth.values():  # one batched forward per depth; outputs of one depth held at once
            outputs = measurer.outputs_many([subjects[i] for i in indices], 1, output_settings)
            for i, y in zip(indices, outputs):
                activation, magnitude, depth = cells[i]
                images[activation][settings.magnitudes.index(magnitude), settings.depths.index(depth)] = y[0].cpu().numpy()
                bar.advance(subjects[i].label)
    return images


def save_images(images: dict[str, np.ndarray], path: Path) -> None:
    """The gallery's arrays as .npz (one array per activation): the numbers the figures show."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **images)
