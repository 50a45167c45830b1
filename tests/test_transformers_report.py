"""The random-transformer report section: table and gain figure drawn from results.json numbers.

The results document is synthetic, with labels and specs made by TransformerSpec itself (as the
claims' records hold them): the section reads the specs, not the labels.
"""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.image import imread  # noqa: E402

from redshift.report.index import SECTIONS, build_report  # noqa: E402
from redshift.transformers.report import (gain_curves, gain_figure, transformer_rows, transformer_table,  # noqa: E402
                                          transformers_section)
from redshift.transformers.spec import TransformerSpec  # noqa: E402

BASE = {"vocab": 1024, "width": 128, "heads": 4, "tokens": 40}
#: (spec fields, n, {metric: median}); low / high = median -+ 0.01 (lz78) or 0.02 (lz76)
CONFIGS = [
    ({"activation": "gelu", "depth": 4, "ln_gain": 0.3}, 64, {"lz78_per_token": 0.195, "lz76_per_token": 0.049}),
    ({"activation": "gelu", "depth": 4, "ln_gain": 1.0}, 64, {"lz78_per_token": 0.232, "lz76_per_token": 0.073}),
    ({"activation": "gelu", "depth": 4, "ln_gain": 3.0}, 64, {"lz78_per_token": 0.366, "lz76_per_token": 0.159}),
    ({"activation": "sine", "depth": 4, "ln_gain": 7.35}, 64, {"lz78_per_token": 0.854, "lz76_per_token": 0.829}),
    ({"activation": "sine", "depth": 1, "ln_gain": 3.0}, 160, {"lz78_per_token": 0.537}),
    ({"activation": "sine", "depth": 1, "ln_gain": 3.0}, 64, {"lz78_per_token": 0.5}),  # smaller run: not drawn
    ({"model": "iid_tokens"}, 64, {"lz78_per_token": 0.976, "lz76_per_token": 0.9756}),
]
SPREAD = {"lz78_per_token": 0.01, "lz76_per_token": 0.02}


def label(fields: dict) -> str:
    return TransformerSpec(**BASE, **fields).label()


def results_document() -> dict:
    records = [{"architecture": label(fields), "source": "transformer",
                "spec": TransformerSpec(**BASE, **fields).to_mapping(), "metric": metric, "setting": "greedy float32",
                "n": n, "flagged": 0, "median": median, "low": median - SPREAD[metric], "high": median + SPREAD[metric]}
               for fields, n, medians in CONFIGS for metric, median in medians.items()]
    records.append({"architecture": "mlp-relu-d3-w64-glorot_uniform(1)", "source": "network", "spec": {},
                    "metric": "lz", "setting": "64^2 float64", "n": 32, "flagged": 0, "median": 57.0, "low": 50.0,
                    "high": 60.0})
    return {"measurements": records, "claims": []}


def test_rows_read_the_specs_and_keep_every_sample_size():
    models, baselines = transformer_rows(results_document())
    assert [b["label"] for b in baselines] == ["iid-tokens-v1024-T40"]
    assert len(models) == 6  # the MLP record is not a transformer
    sine = [m for m in models if m["activation"] == "sine" and m["depth"] == 1]
    assert [(m["gain"], m["n"], m["width"], m["tied_head"]) for m in sine] == [(3.0, 64, 128, True), (3.0, 160, 128, True)]
    assert sine[1]["lz78_per_token"] == pytest.approx((0.537, 0.527, 0.547))


def test_table_puts_the_matching_iid_baseline_beside_each_configuration():
    lines = transformer_table(*transformer_rows(results_document())).splitlines()
    assert len(lines) == 2 + 6
    row = next(line for line in lines if label({"activation": "gelu", "depth": 4, "ln_gain": 3.0}) in line)
    assert row == ("| `gpt2-gelu-d4-w128-h4-v1024-ln3-T40` | 64 | 0.159 [0.139, 0.179] | 0.366 [0.356, 0.376] "
                   "| 64 | 0.976 [0.956, 0.996] | 0.976 [0.966, 0.986] |")


def test_gain_figure_draws_the_json_numbers():
    document = results_document()
    models, baselines = transformer_rows(document)
    curves = {m: gain_curves(models, m) for m in ("lz78_per_token", "lz76_per_token")}
    levels = {m: baselines[0][m] for m in curves}
    fig = gain_figure(curves, levels, "title")
    axes = np.array(fig.axes[:4]).reshape(2, 2)  # rows: metric; columns: depth 1, 4
    raw = {(r["architecture"], r["metric"], r["n"]): r for r in document["measurements"]}
    for row, metric in zip(axes, curves):
        for ax, depth in zip(row, (1, 4)):
            assert ax.get_title() == ("1 block" if depth == 1 else "4 blocks")
            drawn = {c.get_label(): c for c in ax.containers}
            expected = curves[metric].get(depth, {})
            assert set(drawn) == set(expected)
            for activation, container in drawn.items():
                line, _, (bars,) = container.lines
                gains = line.get_xdata()
                for gain, median, segment in zip(gains, line.get_ydata(), bars.get_segments()):
                    fields = {"activation": activation, "depth": depth, "ln_gain": float(gain)}
                    n = 160 if (activation, depth) == ("sine", 1) else 64  # the largest run is drawn
                    record = raw[(label(fields), metric, n)]
                    assert median == record["median"]
                    np.testing.assert_allclose(segment[:, 1], [record["low"], record["high"]])
            iid = raw[("iid-tokens-v1024-T40", metric, 64)]
            assert [line.get_ydata()[0] for line in ax.lines if line.get_label() == "iid random tokens"] == [iid["median"]]
    assert fig.legends and "iid random tokens" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_section_writes_a_non_blank_png_and_the_table(results_context):
    ctx = results_context(results_document())
    assert SECTIONS["transformers"].build is transformers_section
    text = build_report(ctx, [SECTIONS["transformers"]]).read_text()
    assert "![sequence complexity vs layer-norm gain" in text and "| `gpt2-sine-d4-w128-h4-v1024-ln7.35-T40` | 64 |" in text
    pixels = imread(ctx.out / "transformers-gain-0.png")[..., :3]
    assert pixels.var() > 1e-3


@pytest.mark.parametrize("document", [None, {"measurements": [], "claims": []}])
def test_section_says_how_to_produce_missing_measurements(results_context, document):
    ctx = results_context(document)
    text = transformers_section(ctx)
    assert "python -m pytest cases/transformers.yaml" in text and "--run-claims" in text
    assert not ctx.out.exists() or not list(ctx.out.glob("*.png"))
