"""Fine-tuning the default detector (the cascade's classifier) from review verdicts, end to end:
a detected shot, a reviewer's accepts and rejects, a new classifier that detect loads.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from hotpixel.cli.main import main  # noqa: E402
from hotpixel.detect.cascade.detector import default_classifier_path  # noqa: E402
from hotpixel.detect.model_file import load_classifier, model_format  # noqa: E402
from hotpixel.errors import ModelError  # noqa: E402
from hotpixel.ml.training import cascade_finetune as ft  # noqa: E402
from hotpixel.outputs import labels  # noqa: E402
from imagegen import clear_defect_plate  # noqa: E402

# stills only (nothing to fetch), no validation clip: the threshold is given
QUICK = ft.ClassifierFinetune(
    epochs=2, replay_frames=0, replay_stills=3, validation_frames=0, threshold=0.6
)


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """A shot detected below the operating threshold, every detection judged by the truth."""
    root = tmp_path_factory.mktemp("cft")
    pattern, defects = clear_defect_plate(str(root / "plate"), (128, 96), 6, (0.0, 2.0))
    out = root / "qc"
    args = ["detect", pattern, "--out", str(out), "--threshold", "0.05", "--quiet"]
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    found = labels.new_labels(report)
    dets = report["detections"]
    verdicts = []
    for det_id, d in zip(labels.detection_ids(dets), dets, strict=True):
        real = any(abs(t.x - d["x"]) <= 2 and abs(t.y - d["y"]) <= 2 for t in defects)
        real = real and d["frame"] == 1003
        verdicts.append("accept" if real else "reject")
        labels.set_label(found, det_id, d, verdicts[-1])
    labels.save_labels(str(out), found)
    assert "accept" in verdicts and "reject" in verdicts, verdicts
    return out, verdicts


def test_the_shipped_classifier_loads_into_pytorch_with_parity():
    from hotpixel.ml.training.cascade_net import Probability

    net, meta = ft.load_classifier_net(default_classifier_path())
    session, _ = load_classifier(default_classifier_path(), "cpu")
    rng = np.random.default_rng(5)
    patches = rng.normal(0, 1, (6, 36, 9, 9)).astype(np.float32)
    scalars = rng.normal(0, 1, (6, 10)).astype(np.float32)
    want = session.run(["probability"], {"patches": patches, "scalars": scalars})[0]
    with torch.no_grad():
        got = Probability(net)(torch.from_numpy(patches), torch.from_numpy(scalars)).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert meta["model_version"] == "cascade-v1"


def test_verdicts_label_the_candidates_detection_judged(reviewed):
    out, verdicts = reviewed
    _, meta = ft.load_classifier_net(default_classifier_path())
    got = ft.verdict_candidates([str(out / "labels.json")], meta)
    assert got.accepted == verdicts.count("accept") and got.rejected == verdicts.count("reject")
    assert got.unmatched == 0  # the same candidate stage as detection: every box has one
    assert set(np.unique(got.label)) == {0.0, 1.0}
    assert len(got.label) == len(got.encoded.patches) == len(got.encoded.scalars)
    # the shipped classifier's own scores for them: the detections were made from these
    session, _ = load_classifier(default_classifier_path(), "cpu")
    feed = {"patches": got.encoded.patches, "scalars": got.encoded.scalars}
    prob = session.run(["probability"], feed)[0].reshape(-1)
    report = json.loads((out / "report.json").read_text())
    assert prob.max() == pytest.approx(max(d["score"] for d in report["detections"]), abs=1e-3)


def test_finetune_writes_a_classifier_detect_loads(reviewed, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTPIXEL_CLIPS", str(tmp_path / "clips"))
    out, _ = reviewed
    model = str(tmp_path / "ft.onnx")
    ft.finetune_classifier([str(out / "labels.json")], default_classifier_path(), model, "t", QUICK)
    assert model_format(model) == "cascade"
    _, info = load_classifier(model, "cpu")
    assert info.version == "t" and info.threshold == 0.6
    record = json.loads((tmp_path / "ft.train.json").read_text())
    assert "finetuned from cascade-v1" in record["metadata"]["lineage"]
    assert set(record["metrics"]["verdicts_after"]) == {"accepted_kept", "rejected_kept"}
    assert list((tmp_path / "clips").parent.glob("candidates/stills-*.npz"))  # cached for next time
    pattern = json.loads((out / "labels.json").read_text())["pattern"]
    qc2 = str(tmp_path / "qc2")
    assert main(["detect", pattern, "--out", qc2, "--model", model, "--quiet"]) == 0
    report = json.loads((tmp_path / "qc2" / "report.json").read_text())
    assert report["detector"]["model_version"] == "t"


def test_finetune_command_for_the_cascade(reviewed, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOTPIXEL_CLIPS", str(tmp_path / "clips"))
    monkeypatch.setattr(ft, "ClassifierFinetune", lambda **kw: QUICK)  # quick, fetch nothing
    out, _ = reviewed
    model = tmp_path / "cli.onnx"
    args = ["finetune", "--labels", str(out / "labels.json"), "--out", str(model)]
    assert main([*args, "--epochs", "2"]) == 0
    assert model_format(str(model)) == "cascade"
    assert main([*args, "--epochs", "0"]) == 2
    assert main([*args, "--base", str(tmp_path / "none.onnx")]) == 2
    assert "none.onnx" in capsys.readouterr().err


def test_a_dense_model_is_not_taken_for_a_classifier():
    from hotpixel.detect.model_file import default_model_path

    with pytest.raises(ModelError, match="not a cascade classifier"):
        ft.load_classifier_net(default_model_path())


def test_thresholds_are_chosen_out_of_fold(monkeypatch):
    """Clip-level cross-validation: each clip is predicted by a network that never trained on
    it, every pooled clip exactly once, and the threshold comes from those predictions."""
    from hotpixel.detect.cascade import candidates as cand
    from hotpixel.ml import realvideo
    from hotpixel.ml.training import cascade as recipe
    from hotpixel.ml.training import cascade_data as cdata

    rng = np.random.default_rng(9)
    params = cand.CandidateParams(threshold=4.0)
    batches = {c: cdata.collect(cdata.still_windows(2, rng), params) for c in "abcd"}
    data = recipe.PoolData(batches, cdata.collect(cdata.still_windows(1, rng), params))
    folds = [realvideo.Fold(0, ("a", "b"), ("c", "d")), realvideo.Fold(1, ("c", "d"), ("a", "b"))]
    monkeypatch.setattr(realvideo, "folds", lambda k: folds)
    trained_on: list[tuple[str, ...]] = []
    joined = recipe.PoolData.joined

    def spy(self, clips):
        trained_on.append(tuple(clips))
        return joined(self, clips)

    monkeypatch.setattr(recipe.PoolData, "joined", spy)
    config = recipe.CascadeTrainConfig(epochs=1, folds=2)
    prob, used = recipe.cross_validate(data, config)
    assert used == folds and trained_on == [("a", "b"), ("c", "d")]
    assert sorted(prob) == ["a", "b", "c", "d"]
    assert all(len(prob[c]) == len(batches[c].label) for c in prob)
    pooled, pooled_prob = recipe.out_of_fold(data, prob)
    threshold = cdata.choose_threshold(pooled_prob, pooled, 0.995)
    cv = recipe.cv_metrics(data, prob, threshold)
    assert set(cv["per_clip"]) == {"a", "b", "c", "d"}
    assert cv["spread"]["recall_clear"]["worst"] in "abcd"


def test_operating_threshold_falls_back_to_the_false_alert_bound(monkeypatch):
    """The recall bar where some threshold keeps it; else the lowest threshold within the
    false-alert bound; else the grid's highest."""
    from hotpixel.ml.training import cascade as recipe
    from hotpixel.ml.training import cascade_data as cdata

    def rates_for(recall_at, fa_at):
        def rates(prob, data, t):
            return {"recall_clear": recall_at(t), "false_alerts_per_frame": fa_at(t)}

        return rates

    def use(recall_at, fa_at):
        fake = rates_for(recall_at, fa_at)
        monkeypatch.setattr(recipe, "rates", fake)
        monkeypatch.setattr(cdata, "rates", fake)  # choose_threshold's own
        return recipe.operating_threshold(np.zeros(0), None, 0.995, 0.3)

    # the bar is kept up to 0.9: that is the threshold, whatever the false alerts
    assert use(lambda t: 0.999 if t <= 0.9 else 0.9, lambda t: 5.0) == 0.9
    # the bar is out of reach: the lowest threshold whose false alerts are within 0.3
    chosen = use(lambda t: 0.98, lambda t: 1.0 - t)
    assert 1.0 - chosen <= 0.3 and all(
        1.0 - t > 0.3 for t in recipe.THRESHOLDS if 0.5 <= t < chosen
    )
    # nothing is within the bound either: the grid's highest
    assert use(lambda t: 0.98, lambda t: 2.0) == max(recipe.THRESHOLDS)


def test_fine_tuned_threshold_holds_the_base_recall(monkeypatch):
    """The fine-tuned file's threshold is the highest that keeps the base classifier's own
    clear recall on the validation clips (at most the recall bar), never one that trades
    recall for false alerts; where none keeps it, the lowest, marked as not kept."""
    from hotpixel.ml.training import cascade_data as cdata

    base, tuned = np.zeros(1), np.ones(1)  # which classifier's predictions rates() is given

    def use(base_recall, tuned_recall, bar=0.995):
        def rates(prob, data, t):
            return {"recall_clear": (tuned_recall if prob[0] else base_recall)(t)}

        monkeypatch.setattr(cdata, "rates", rates)
        return ft.held_threshold(tuned, base, None, 0.5, bar)

    # the base keeps 0.992 at its 0.5; the tuned one keeps that up to 0.95
    held = use(lambda t: 0.992, lambda t: 0.993 if t <= 0.95 else 0.9)
    assert (held.threshold, held.bar, held.kept) == (0.95, 0.992, True)
    # a base above the bar: the bar is the limit, not the base's recall
    held = use(lambda t: 1.0, lambda t: 0.996 if t <= 0.9 else 0.99)
    assert (held.threshold, held.bar) == (0.9, 0.995)
    # the tuned one needs a threshold below 0.5 to keep the base's recall: it gets one
    held = use(lambda t: 0.995, lambda t: 0.995 if t <= 0.3 else 0.99)
    assert held.threshold == 0.3 and held.kept
    # it lost recall no threshold buys back: the lowest, marked as not kept
    held = use(lambda t: 0.995, lambda t: 0.9)
    assert held.threshold == min(ft.THRESHOLDS) and not held.kept
