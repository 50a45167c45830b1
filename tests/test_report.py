"""The report (redshift.report build): sweep numbers, figures drawn from them, PNGs, gallery, index.

A tiny sweep (3 activations x 2 depths x 3 magnitudes, 4 networks on a 24^2 grid, width 8) is built
once per module; every number a figure shows is compared with the sweep JSON read back raw.
"""
import json
import math
import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.image import imread  # noqa: E402

from redshift.metrics import METRICS  # noqa: E402
from redshift.networks import NetworkSpec, WeightSpec, sample_grid  # noqa: E402
from redshift.report import figures  # noqa: E402
from redshift.report.gallery import GALLERY_ACTIVATIONS  # noqa: E402
from redshift.claims.measure import Measurer  # noqa: E402
from redshift.report.index import ReportContext, Section, build_report, sections  # noqa: E402
from redshift.report.sections import CLAIMS, gallery_section, heatmap_figures  # noqa: E402
from redshift.report.sweep import (  # noqa: E402
    NOISE, Sweep, SweepSettings, cell_subject, network_spec, run_sweep, zoo_architectures,
)

#: This package's own sections (other experiment families register theirs through entry points too).
BUILT_IN = sections(["heatmaps", "gallery", "claims", "ranking"])
TINY = SweepSettings(samples=4, resolution=24, width=8, magnitudes=(0.1, 1.0, 10.0), depths=(1, 3),
                     activations=("relu", "tanh", "sine"), zoo_depth=3)

RESULTS = {
    "created": "2026-01-01T00:00:00+00:00", "commit": "abc123", "settings": {"seed": 1, "tier": "ci", "device": "cpu"},
    "measurements": [],
    "claims": [
        {"id": "cases/x.yaml::tanh-rises[lz]", "status": "PASS", "claim": "tanh rises | with alpha", "reason": None,
         "evidence": ["ok    a 40 [38, 44] (n=32)  <  b 270 [260, 280] (n=32): p=1e-9"]},
        {"id": "cases/x.yaml::relu-flat[fourier]", "status": "XFAIL", "claim": "relu is flat",
         "reason": "measured 0.31; paper 0.1", "evidence": ["FAIL  ratio 1.4 [1.3, 1.5] (need <= 1.2)"]},
    ],
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    results = root / "results.json"
    results.write_text(json.dumps(RESULTS))
    ctx = ReportContext(out=root / "out", settings=TINY, results_json=results, show_progress=False, commit="def456")
    index = build_report(ctx, BUILT_IN, command="python -m redshift.report build --samples 4")
    return ctx, index


def raw_grid(document: dict, architecture: str, metric: str) -> np.ndarray:
    """[magnitudes, depths] medians straight from the JSON (NaN where all flagged)."""
    cells = {(c["architecture"], c["depth"], c["magnitude"]): c for c in document["cells"]}
    s = document["settings"]
    return np.array([[cells[(architecture, d, m)]["metrics"][metric].get("median", math.nan) for d in s["depths"]]
                     for m in s["magnitudes"]])


def test_heatmap_figures_show_the_json_numbers(report):
    ctx, _ = report
    document = json.loads((ctx.out / "sweep.json").read_text())
    drawn = heatmap_figures(Sweep.read(ctx.out / "sweep.json"))
    assert sorted(drawn) == sorted(f"heatmap-{m}.png" for m in TINY.metrics)
    for metric in TINY.metrics:
        axes = [ax for ax in drawn[f"heatmap-{metric}.png"].axes if ax.images]
        assert [ax.get_title() for ax in axes] == list(TINY.activations)
        expected = {a: raw_grid(document, a, metric) for a in TINY.activations}
        finite = np.concatenate([v.ravel() for v in expected.values()])
        finite = finite[np.isfinite(finite)]
        for ax in axes:
            image = ax.images[0]
            np.testing.assert_array_equal(image.get_array().filled(np.nan), expected[ax.get_title()])
            assert image.get_clim() == (finite.min(), finite.max())  # one colour scale per metric
            assert [t.get_text() for t in ax.texts] == [figures.number(v) for v in expected[ax.get_title()].ravel()]
            assert [t.get_text() for t in ax.get_yticklabels()] == ["0.1", "1", "10"]
            assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3"]


def test_sweep_cell_equals_a_direct_measurement(report):
    ctx, _ = report
    document = json.loads((ctx.out / "sweep.json").read_text())
    cell = next(c for c in document["cells"] if (c["architecture"], c["depth"], c["magnitude"]) == ("tanh", 3, 10.0))
    spec = NetworkSpec(activation="tanh", depth=3, width=8, weights=WeightSpec("glorot_uniform", 10.0, 1.0))
    assert cell["label"] == spec.label() == "mlp-tanh-d3-w8-glorot_uniform(10)"
    assert cell["source"] == "network" and NetworkSpec.from_mapping(cell["spec"]) == spec  # results carry the spec
    subject = cell_subject(spec)
    y = sample_grid(spec, TINY.samples, Measurer(TINY.seed, "cpu").seed(subject), TINY.resolution)  # the claims' seed
    for metric in TINY.metrics:
        values = METRICS[metric](y).numpy()
        m = Measurer(TINY.seed, "cpu").measure(subject, metric, TINY.samples, TINY.resolution, "float64")
        np.testing.assert_array_equal(m.values, values)
        s = m.summary
        recorded = cell["metrics"][metric]
        np.testing.assert_allclose([recorded["median"], recorded["low"], recorded["high"]], [s.median, s.low, s.high],
                                   rtol=1e-12, err_msg=metric)


def test_sweep_covers_heatmaps_zoo_and_noise(report):
    ctx, _ = report
    sweep = Sweep.read(ctx.out / "sweep.json")
    assert sweep.settings == TINY
    for a in TINY.activations:
        assert not np.isnan(sweep.grid(a, "lz")).all()
    for a in zoo_architectures(TINY):
        depth = None if a == "unbiased" else TINY.zoo_depth
        assert all(sweep.record(a, depth, m) for m in TINY.magnitudes), a
    assert sweep.value(NOISE, None, None, "lz") > sweep.value("relu", 1, 1.0, "lz")


def test_sweep_is_deterministic():
    settings = SweepSettings(samples=3, resolution=24, width=4, magnitudes=(2.0,), depths=(2,), activations=("gelu",),
                             metrics=("lz", "dct"), zoo_depth=2)
    first, second = run_sweep(settings, show_progress=False), run_sweep(settings, show_progress=False)
    assert first.records == second.records


def linked_pngs(index_text: str) -> list[str]:
    return re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", index_text)


def test_every_png_is_linked_exists_and_is_not_blank(report):
    ctx, index = report
    links = linked_pngs(index.read_text())
    on_disk = sorted(p.name for p in ctx.out.glob("*.png"))
    assert sorted(links) == on_disk
    expected = {f"heatmap-{m}.png" for m in TINY.metrics} | {f"gallery-{a}.png" for a in GALLERY_ACTIVATIONS}
    assert expected <= set(on_disk)
    for name in on_disk:
        pixels = imread(ctx.out / name)[..., :3]
        assert pixels.var() > 1e-3, f"{name} is blank"


def test_blank_image_fails_the_pixel_check(tmp_path):
    fig = figures.Figure(figsize=(2, 2))
    figures.save(fig, tmp_path / "blank.png")
    assert imread(tmp_path / "blank.png")[..., :3].var() < 1e-3


def test_gallery_shows_network_0_of_each_cell(report):
    ctx, _ = report
    saved = np.load(ctx.out / "gallery.npz")
    assert sorted(saved.files) == sorted(GALLERY_ACTIVATIONS)
    images = saved["sine"]
    assert images.shape[:2] == (len(TINY.magnitudes), len(TINY.depths))
    spec = NetworkSpec(activation="sine", depth=3, width=8, weights=WeightSpec("glorot_uniform", 10.0, 1.0))
    seed = Measurer(TINY.seed, "cpu").seed(cell_subject(spec))  # the sweep cell's seed
    resolution = images.shape[-1]
    np.testing.assert_array_equal(images[2, 1], sample_grid(spec, 1, seed, resolution)[0].numpy())
    # the same network as the cell's first of n (float round-off may differ with the batch size)
    np.testing.assert_allclose(images[2, 1], sample_grid(spec, TINY.samples, seed, resolution)[0].numpy(), rtol=1e-9,
                               atol=1e-12)


def test_gallery_figure_draws_the_saved_arrays(report):
    ctx, _ = report
    images = np.load(ctx.out / "gallery.npz")["tanh"]
    fig = figures.gallery_figure("tanh", images, TINY.magnitudes, TINY.depths, "")
    drawn = np.array([ax.images[0].get_array() for ax in fig.axes]).reshape(images.shape)
    np.testing.assert_array_equal(drawn, images)


def test_index_header_sections_and_claims(report):
    ctx, index = report
    text = index.read_text()
    assert "| commit | `def456` |" in text and "| device | cpu" in text
    assert "4 networks per cell, width 8, 24^2 grid" in text
    assert "python -m redshift.report build --samples 4" in text
    assert [s.title for s in BUILT_IN] == ["Neural Redshift heatmaps", "Sample functions", "Claims", "Ranking of the zoo"]
    for section in BUILT_IN:
        assert f"## {section.title}" in text
    assert "| **PASS** | `cases/x.yaml::tanh-rises[lz]` | tanh rises \\| with alpha |" in text
    assert "**xfail reason:** measured 0.31; paper 0.1" in text
    assert "**Stale:**" in text  # results from commit abc123, tree at def456
    ranking = text.split("## Ranking of the zoo")[1]
    assert ranking.count("| tanh+ln |") == len(TINY.metrics)
    assert "magnitude 1: median [95%] | rank | magnitude 10: median [95%] | rank" in ranking


def test_missing_claims_results_say_how_to_produce_them(tmp_path):
    ctx = ReportContext(out=tmp_path, settings=TINY, results_json=tmp_path / "none.json", show_progress=False)
    text = build_report(ctx, [CLAIMS]).read_text()
    assert "does not exist. Produce it with `python -m pytest cases`" in text and "--run-claims" in text


def test_sections_are_pluggable(tmp_path):
    def extra_section(ctx) -> str:
        (ctx.out / "extra.txt").write_text("x")
        return "a table from another experiment family"

    ctx = ReportContext(out=tmp_path, settings=TINY, results_json=tmp_path / "none.json", show_progress=False)
    text = build_report(ctx, [CLAIMS, Section("extra", "Transformers", extra_section)]).read_text()
    assert "## Transformers\n\na table from another experiment family" in text
    assert "[Transformers](#transformers)" in text and (tmp_path / "extra.txt").exists()


def test_gallery_section_needs_no_sweep(tmp_path):
    ctx = ReportContext(out=tmp_path, settings=TINY, show_progress=False)
    assert "gallery-relu.png" in gallery_section(ctx)
    assert "sweep" not in vars(ctx) and not (tmp_path / "sweep.json").exists()


# --- pay only for what is asked; batched sampling --------------------------------------------

class CountingMeasurer(Measurer):
    """Records the subjects and metrics each measure_many call asks for, and each outputs_many call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked, self.sampled = [], []

    def measure_many(self, subjects, metrics, *args, **kwargs):
        self.asked.append(([s.label for s in subjects], list(metrics)))
        return super().measure_many(subjects, metrics, *args, **kwargs)

    def outputs_many(self, subjects, samples, settings, seed_key=None, promote_below=None):
        self.sampled.append(([s.label for s in subjects], samples, settings.resolution))
        return super().outputs_many(subjects, samples, settings, seed_key, promote_below)


def test_heatmap_only_sweep_measures_only_its_cells_and_metrics():
    settings = SweepSettings(samples=2, resolution=24, width=8, magnitudes=(0.1, 10.0), depths=(1, 2),
                             activations=("relu", "sine"), metrics=("fourier_quadrant",), zoo_depth=2)
    measurer = CountingMeasurer(settings.seed, "cpu")
    sweep = run_sweep(settings, "cpu", False, measurer, parts=("heatmaps",))
    asked = [label for labels, metrics in measurer.asked for label in labels]
    assert all(metrics == ["fourier_quadrant"] for _, metrics in measurer.asked)
    expected = {cell_subject(network_spec(a, d, m, settings)).label for a in settings.activations
                for m in settings.magnitudes for d in settings.depths} | {"fn:white_noise"}
    assert sorted(asked) == sorted(expected)  # no zoo cell, no other activation, each once
    assert len(sweep.records) == len(expected)
    assert all(set(r["metrics"]) == {"fourier_quadrant"} for r in sweep.records)
    assert len(measurer.asked) == 1  # 8 cells of 2 x 24^2 float64 fit one block: one call, batched forwards


def test_heatmap_section_alone_draws_no_gallery_and_measures_no_zoo(tmp_path):
    ctx = ReportContext(out=tmp_path, settings=TINY, results_json=tmp_path / "none.json", show_progress=False)
    measurer = CountingMeasurer(TINY.seed, "cpu")
    vars(ctx)["measurer"] = measurer  # the cached_property, preset
    build_report(ctx, sections(["heatmaps"]))
    assert not (tmp_path / "gallery.npz").exists() and not list(tmp_path.glob("gallery-*.png"))
    assert all(resolution == TINY.resolution and samples == TINY.samples for _, samples, resolution in measurer.sampled)
    document = json.loads((tmp_path / "sweep.json").read_text())
    assert {c["architecture"] for c in document["cells"]} == set(TINY.activations) | {NOISE}


def test_gallery_is_batched_per_depth_and_follows_the_sweep_activations(tmp_path, monkeypatch):
    import redshift.networks.sampling as sampling
    forwards = []
    real = sampling.evaluate
    monkeypatch.setattr(sampling, "evaluate", lambda *a, **k: forwards.append(a[1].n) or real(*a, **k))
    settings = SweepSettings(samples=4, resolution=24, width=8, magnitudes=(0.1, 1.0, 10.0), depths=(1, 3),
                             activations=("tanh", "gelu"), zoo_depth=3)
    ctx = ReportContext(out=tmp_path, settings=settings, show_progress=False)
    gallery_section(ctx)
    assert sorted(np.load(tmp_path / "gallery.npz").files) == ["tanh"]  # GALLERY_ACTIVATIONS within the sweep's
    assert forwards == [3, 3]  # network 0 of each cell: one forward per depth
    only_gelu = SweepSettings(samples=4, resolution=24, width=8, magnitudes=(1.0,), depths=(1,), activations=("gelu",))
    gallery_section(ReportContext(out=tmp_path / "g", settings=only_gelu, show_progress=False))
    assert np.load(tmp_path / "g" / "gallery.npz").files == ["gelu"]


def test_sweep_dtype_is_stored_and_old_files_read_as_float64(tmp_path):
    settings = SweepSettings(samples=2, resolution=24, width=4, magnitudes=(2.0,), depths=(1,), activations=("relu",),
                             metrics=("dct",), zoo_depth=1)
    assert settings.dtype == "auto" and "float32 or float64 per metric" in settings.describe()
    sweep = run_sweep(settings, show_progress=False, parts=("heatmaps",))
    sweep.write(tmp_path / "sweep.json")
    assert Sweep.read(tmp_path / "sweep.json").settings == settings
    document = json.loads((tmp_path / "sweep.json").read_text())
    del document["settings"]["dtype"]
    (tmp_path / "old.json").write_text(json.dumps(document))
    assert Sweep.read(tmp_path / "old.json").settings.dtype == "float64"
    with pytest.raises(ValueError, match="unknown sweep dtype"):
        SweepSettings(dtype="float16")
