"""synth -> train -> eval end to end on a tiny configuration, single process and DDP."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from r2n2_viewer.cli import main
from r2n2_viewer.models.checkpoint import read_metadata
from r2n2_viewer.models.recipes import RECIPES, TrainConfig, apply_recipe
from r2n2_viewer.models.train import learning_rate, sequence_loss


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    from r2n2_viewer.models.synth.generate import generate

    generate(root, 5, views=6, seed=3, categories=["chair", "table"], workers=1, progress=False)
    return root


def _log_rows(run) -> list[dict]:
    with open(run / "log.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_lr_schedule_scales_with_budget():
    cfg = TrainConfig(data="d", out="o", iterations=600, lr=1e-4, lr_steps=(1 / 3,))
    assert learning_rate(cfg, 0) == pytest.approx(1e-4)
    assert learning_rate(cfg, 199) == pytest.approx(1e-4)
    assert learning_rate(cfg, 200) == pytest.approx(1e-5)


def test_every_step_loss_averages_steps():
    import torch

    torch.manual_seed(0)
    logits = torch.randn(3, 2, 2, 4, 4, 4)
    vox = (torch.rand(2, 4, 4, 4) > 0.5).to(torch.uint8)
    per_step = [sequence_loss(lg, vox, "last") for lg in logits]
    assert sequence_loss(logits, vox, "every") == pytest.approx(float(sum(per_step) / 3), 1e-5)


@pytest.mark.slow
def test_train_resume_eval_end_to_end(tiny_data, tmp_path, capsys):
    run = tmp_path / "run"

    def train(iterations: int, *extra: str) -> int:
        return main(["train", "--data", str(tiny_data), "--out", str(run), "--preset", "tiny",
                     "--iterations", str(iterations), "--batch-size", "2", "--max-views", "3",
                     "--lr", "1e-3", "--checkpoint-every", "2", "--val-every", "4",
                     "--val-models", "4", "--workers", "0", "--seed", "1", "--no-progress",
                     "--loss", "every", *extra])

    assert train(4) == 0
    meta = read_metadata(run / "last.safetensors")
    assert meta["training"]["iterations"] == 4
    rows = _log_rows(run)
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3, 4]
    assert rows[-1]["val_iou_3"] != ""
    # resume continues from the checkpoint instead of starting again
    assert train(6, "--resume") == 0
    assert read_metadata(run / "last.safetensors")["training"]["iterations"] == 6
    rows = _log_rows(run)
    assert [int(r["iteration"]) for r in rows][-2:] == [5, 6]
    capsys.readouterr()

    out_json, out_png = tmp_path / "e.json", tmp_path / "e.png"
    rc = main(["eval", "--weights", str(run / "last.safetensors"), "--data", str(tiny_data),
               "--max-views", "3", "--json", str(out_json), "--plot", str(out_png),
               "--baseline", "mean-shape", "--device", "cpu"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "overall" in text and "mean-shape" in text
    res = json.loads(out_json.read_text())
    assert res["threshold"] == 0.4
    assert set(res["overall"]) == {"1", "2", "3"}
    assert set(res["per_category"]) == {"chair", "table"}
    assert res["models"] == 2  # 5 models per category -> 1 in the test split each
    assert all(0.0 <= v <= 1.0 for v in res["overall"].values())
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_training_is_deterministic_for_a_seed(tiny_data, tmp_path):
    from r2n2_viewer.models.checkpoint import load_checkpoint

    nets = []
    for name in ("a", "b"):
        args = ["train", "--data", str(tiny_data), "--out", str(tmp_path / name), "--preset",
                "tiny", "--iterations", "2", "--batch-size", "2", "--workers", "0",
                "--val-models", "0", "--seed", "7", "--no-progress"]
        assert main(args) == 0
        nets.append(load_checkpoint(tmp_path / name / "last.safetensors")[0])
    for (k, a), b in zip(nets[0].state_dict().items(), nets[1].state_dict().values(), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


def test_train_bad_data_folder(tmp_path, capsys):
    rc = main(["train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "r")])
    assert rc == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_distributed_training_two_cpu_processes(tiny_data, tmp_path):
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
           "2", "-m", "r2n2_viewer.cli", "train", "--data", str(tiny_data), "--out", str(run),
           "--preset", "tiny", "--iterations", "3", "--batch-size", "2", "--workers", "0",
           "--val-models", "0", "--no-progress"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    meta = read_metadata(run / "last.safetensors")
    assert meta["training"]["world_size"] == 2
    assert meta["training"]["iterations"] == 3


def test_recipe_then_explicit_options():
    cfg = apply_recipe(TrainConfig(data="d", out="o", recipe="default"), {"iterations": 5})
    assert cfg.iterations == 5
    assert cfg.lr == RECIPES["default"]["lr"] and cfg.preset == "small"
    with pytest.raises(ValueError, match="unknown recipe"):
        apply_recipe(TrainConfig(data="d", out="o", recipe="nope"))


def test_recipes_match_the_bundled_models_recorded_stages():
    """`--recipe NAME` must still train what each stage of the bundled model ran."""
    from r2n2_viewer.models.checkpoint import read_metadata
    from r2n2_viewer.weights import default_weights_path

    stages = read_metadata(default_weights_path())["training"]["stages"]
    assert [s["config"]["recipe"] for s in stages] == [
        "default", "default-refine", "default-update", "default-views8", "furniture",
        "furniture-reframe"]
    keys = ("preset", "iterations", "batch_size", "max_views", "lr", "lr_steps",
            "weight_decay", "loss", "seed", "flip", "bg_prob", "jitter", "reframe",
            "data_repeat")
    defaults = TrainConfig(data="d", out="o")
    for stage in stages:
        ran = stage["config"]
        roots = ["d"] * max(1, len(ran.get("data_repeat", ())))
        cfg = apply_recipe(TrainConfig(data=roots, out="o", recipe=ran["recipe"]))
        recorded = {k: ran.get(k, getattr(defaults, k)) for k in keys}  # older stages: default
        assert {k: getattr(cfg, k) for k in keys} == {
            k: tuple(v) if isinstance(v, list) else v for k, v in recorded.items()}, ran["recipe"]


def test_init_starts_from_given_weights_and_checks_the_preset(tiny_data, tmp_path, capsys):
    import torch

    from r2n2_viewer.models.checkpoint import load_checkpoint, save_checkpoint
    from r2n2_viewer.models.net import build

    torch.manual_seed(5)
    start = tmp_path / "start.safetensors"
    save_checkpoint(start, build("tiny"), preset="tiny")
    run = tmp_path / "run"

    def train(out, preset: str = "tiny", init: bool = True) -> int:
        return main(["train", "--data", str(tiny_data), "--out", str(out), "--preset", preset,
                     "--iterations", "0", "--batch-size", "2", "--workers", "0",
                     "--val-models", "0", "--no-flip", "--no-progress",
                     *(["--init", str(start)] if init else [])])

    assert train(run) == 0
    cfg = json.loads((run / "train_config.json").read_text())
    assert cfg["flip"] is False and cfg["init"] == str(start)
    a, b = load_checkpoint(start)[0], load_checkpoint(run / "last.safetensors")[0]
    for (k, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=k)
    # without --init the same seed starts elsewhere
    other = tmp_path / "other"
    assert train(other, init=False) == 0
    c = load_checkpoint(other / "last.safetensors")[0]
    assert not torch.equal(a.cell.state_dict()["t_x_s_update.conv.weight"],
                           c.cell.state_dict()["t_x_s_update.conv.weight"])
    capsys.readouterr()
    rc = train(tmp_path / "bad", preset="small")
    assert rc == 2
    err = capsys.readouterr().err
    assert "network config differs" in err and "--preset" in err


def test_a_run_started_from_trained_weights_records_every_stage(tiny_data, tmp_path):
    from r2n2_viewer.models.checkpoint import read_metadata

    def train(out, *extra: str) -> dict:
        assert main(["train", "--data", str(tiny_data), "--out", str(out), "--preset", "tiny",
                     "--iterations", "2", "--batch-size", "2", "--workers", "0",
                     "--val-models", "0", "--no-progress", *extra]) == 0
        return read_metadata(out / "last.safetensors")["training"]

    first = train(tmp_path / "one", "--seed", "1")
    assert "stages" not in first and first["iterations"] == 2
    second = train(tmp_path / "two", "--init", str(tmp_path / "one" / "last.safetensors"),
                   "--lr", "5e-5")
    third = train(tmp_path / "three", "--init", str(tmp_path / "two" / "last.safetensors"),
                  "--reframe", "0.5")
    assert [s["config"]["seed"] for s in second["stages"]] == [1, 0]
    assert [s["config"]["lr"] for s in third["stages"]] == [1e-4, 5e-5, 1e-4]
    assert [s["config"]["reframe"] for s in third["stages"]] == [0.0, 0.0, 0.5]
    assert third["iterations"] == 6 and third["config"]["reframe"] == 0.5
    assert third["wall_time_s"] == pytest.approx(
        sum(s["wall_time_s"] for s in third["stages"]), abs=0.2)
    # a resumed run keeps its stages even when its --init file is gone (the run's own
    # checkpoint carries them)
    from r2n2_viewer.models.recipes import TrainConfig as Config
    from r2n2_viewer.models.train import train as train_run

    (tmp_path / "two" / "last.safetensors").unlink()
    ran = json.loads((tmp_path / "three" / "train_config.json").read_text())
    train_run(Config(**{**ran, "iterations": 4, "lr_steps": tuple(ran["lr_steps"])}),
              progress=False)
    resumed = read_metadata(tmp_path / "three" / "last.safetensors")["training"]
    assert [s["config"]["lr"] for s in resumed["stages"]] == [1e-4, 5e-5, 1e-4]
    assert resumed["stages"][-1]["iterations"] == 4 and resumed["iterations"] == 8


@pytest.mark.slow
def test_training_on_cpu_restores_subnormal_arithmetic(tiny_data, tmp_path):
    import torch

    from r2n2_viewer.models.train import train

    tiny = torch.tensor([1e-39])  # a subnormal float32
    train(TrainConfig(data=str(tiny_data), out=str(tmp_path / "r"), preset="tiny",
                      iterations=1, batch_size=2, workers=0, val_models=0), progress=False)
    assert float(tiny * 1.0) != 0.0


@pytest.mark.slow
def test_pick_demos_copies_a_test_sequence(tiny_data, tiny_checkpoint, tmp_path):
    from r2n2_viewer.demo import list_demos, pick_demos
    from r2n2_viewer.models.data.shapenet import build_index
    from r2n2_viewer.models.voxels import read_binvox

    chosen = pick_demos(tiny_data, tiny_checkpoint, tmp_path, categories=("chair",),
                        candidates=1, orderings=2)
    assert len(chosen) == 1 and chosen[0]["split"] == "test"
    test_ids = {r.model_id for r in build_index(tiny_data, "test")}
    assert chosen[0]["model_id"] in test_ids  # never a training object
    (demo,) = list_demos(tmp_path)
    assert demo.category == "chair" and len(demo.images) == 5
    # the object's other renderings (up to 3; it has 6), none of the sequence's, as
    # next-view candidates, with their cameras
    rdir = next(tiny_data.glob(f"ShapeNetRendering/*/{chosen[0]['model_id']}/rendering"))
    assert len(demo.candidates) == 1 == len(chosen[0]["candidate_views"])
    assert demo.candidate_cameras is not None and len(demo.candidate_cameras) == 1
    assert not set(chosen[0]["candidate_views"]) & set(chosen[0]["source_views"])
    for path, name in zip(demo.candidates, chosen[0]["candidate_views"], strict=True):
        assert path.read_bytes() == (rdir / name).read_bytes()
    curve = chosen[0]["iou_by_views_at_selection"]
    assert demo.gain == pytest.approx(curve[-1] - curve[0])
    gt = read_binvox(next(tiny_data.glob(f"ShapeNetVox32/*/{chosen[0]['model_id']}/model.binvox")))
    np.testing.assert_array_equal(demo.ground_truth(), gt)


@pytest.mark.slow
def test_eval_rows_can_group_models_differently(tiny_data, tiny_net):
    from r2n2_viewer.models.evaluate import evaluate, evaluate_items, iter_split

    by_cat = evaluate(tiny_net, tiny_data, max_views=3, progress=False)
    pooled = evaluate_items(tiny_net, iter_split(tiny_data, "test", 3, 0, None,
                                                 group=lambda rec: "all"), 3, progress=False)
    assert pooled["models"] == by_cat["models"] == 2  # one test object per category
    for k in "123":
        assert pooled["per_category"]["all"][k] == pytest.approx(by_cat["overall"][k])
    chairs = evaluate_items(
        tiny_net,
        iter_split(tiny_data, "test", 3, 0, None,
                   group=lambda rec: "chair" if rec.synset == "03001627" else None),
        3, progress=False,
    )
    assert chairs["per_category"]["chair"] == pytest.approx(by_cat["per_category"]["chair"])
    assert list(chairs["per_category"]) == ["chair"]


def test_eval_split_all_and_several_thresholds(tiny_data, tiny_net, tiny_checkpoint, tmp_path,
                                                capsys):
    """--split all takes every model; --thresholds gives one per-category table each, the
    same numbers as separate single-threshold runs."""
    import json

    from r2n2_viewer.cli import main
    from r2n2_viewer.models.evaluate import evaluate

    both = evaluate(tiny_net, tiny_data, "all", 2, thresholds=[0.3, 0.5], progress=False)
    assert both["models"] == 10  # 5 per category, no split (the test split has 2)
    assert both["threshold"] == 0.3 and set(both["by_threshold"]) == {"0.3", "0.5"}
    for t in (0.5,):
        single = evaluate(tiny_net, tiny_data, "all", 2, threshold=t, progress=False)
        assert "by_threshold" not in single
        for cat, row in single["per_category"].items():
            assert both["by_threshold"][f"{t:g}"]["per_category"][cat] == pytest.approx(row)
    out = tmp_path / "r.json"
    rc = main(["eval", "--weights", tiny_checkpoint, "--data", str(tiny_data), "--split", "all",
               "--max-views", "2", "--thresholds", "0.3,0.4,0.5", "--baseline", "mean-shape",
               "--json", str(out), "--device", "cpu"])
    text = capsys.readouterr().out
    assert rc == 0
    for t in ("0.3", "0.4", "0.5"):
        assert f"mean IoU at threshold {t} by number of views" in text
    assert text.count("chair ") == 3 and text.count("(10 models)") == 3
    saved = json.loads(out.read_text())
    assert saved["split"] == "all" and set(saved["by_threshold"]) == {"0.3", "0.4", "0.5"}
    assert set(saved["baseline_mean_shape"]["by_threshold"]) == {"0.3", "0.4", "0.5"}
    rc = main(["eval", "--weights", tiny_checkpoint, "--data", str(tiny_data),
               "--thresholds", "0.3,x"])
    err = capsys.readouterr().err
    assert rc == 2 and "--thresholds" in err and "Traceback" not in err
    rc = main(["eval", "--weights", tiny_checkpoint, "--data", str(tiny_data),
               "--thresholds", "0.3,1.5"])
    assert rc == 2 and "--thresholds" in capsys.readouterr().err


def test_pooled_datasets_each_split_on_their_own_and_repeat(tmp_path):
    from factories import shapenet_tree

    from r2n2_viewer.models.data.shapenet import ShapeNetViews, make_loader

    a = shapenet_tree(tmp_path / "a", {"03001627": "chair"}, per_category=5, views=3, seed=1)
    b = shapenet_tree(tmp_path / "b", {"04379243": "table"}, per_category=5, views=3, seed=2)
    train_a = {r.model_id for r in ShapeNetViews(a, "train").records}
    train_b = {r.model_id for r in ShapeNetViews(b, "train").records}
    loader = make_loader([a, b], "train", batch_size=2, max_views=2, workers=0, repeat=[1, 3])
    pooled = loader.dataset
    assert len(pooled) == len(train_a) + 3 * len(train_b)
    seen = {pooled[(i, 2, i)]["model_id"] for i in range(len(pooled))}
    assert seen == train_a | train_b  # only training models, from both datasets
    assert pooled.names == {"03001627": "chair", "04379243": "table"}
    with pytest.raises(ValueError, match="one repeat count"):
        make_loader([a, b], "train", workers=0, repeat=[1])


def test_train_pools_several_data_folders(tiny_data, tmp_path, capsys):
    from factories import shapenet_tree

    other = shapenet_tree(tmp_path / "other", {"04379243": "table"}, per_category=5, views=6)
    run = tmp_path / "run"
    base = ["train", "--data", str(tiny_data), "--data", str(other), "--out", str(run),
            "--preset", "tiny", "--batch-size", "2", "--workers", "0", "--val-models", "0",
            "--no-progress"]
    assert main([*base, "--iterations", "2", "--data-repeat", "1,2"]) == 0
    config = json.loads((run / "train_config.json").read_text())
    assert config["data"] == [str(tiny_data), str(other)]
    assert config["data_repeat"] == [1, 2]
    assert read_metadata(run / "last.safetensors")["training"]["data"] == f"{tiny_data}, {other}"
    capsys.readouterr()
    assert main([*base, "--iterations", "2", "--data-repeat", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "one count per folder" in err
    assert main([*base, "--iterations", "2", "--data-repeat", "1,x"]) == 2
    assert "whole numbers" in capsys.readouterr().err


def test_eval_orders_average_independent_view_draws(tiny_data, tiny_net, tiny_checkpoint,
                                                   capsys):
    """--orders N scores each model on N sequences of views drawn with seeds seed..seed+N-1:
    the mean of N single-order runs, with the model count unchanged."""
    from r2n2_viewer.cli import main
    from r2n2_viewer.models.evaluate import evaluate

    singles = [evaluate(tiny_net, tiny_data, "all", 2, seed=s, progress=False)
               for s in (3, 4, 5)]
    assert singles[0]["overall"] != pytest.approx(singles[1]["overall"])  # draws differ
    three = evaluate(tiny_net, tiny_data, "all", 2, seed=3, orders=3, thresholds=[0.4, 0.5],
                     progress=False)
    assert three["models"] == singles[0]["models"] == 10
    assert three["sequences"] == 30 and three["orders"] == 3
    assert three["by_threshold"]["0.5"]["models"] == 10
    for cat in singles[0]["per_category"]:
        for k in "12":
            mean = np.mean([s["per_category"][cat][k] for s in singles])
            assert three["per_category"][cat][k] == pytest.approx(mean)
    assert main(["eval", "--weights", tiny_checkpoint, "--data", str(tiny_data), "--split",
                 "all", "--max-views", "2", "--orders", "2", "--device", "cpu"]) == 0
    assert "(10 models, 2 random view orders each)" in capsys.readouterr().out
    assert main(["eval", "--weights", tiny_checkpoint, "--data", str(tiny_data),
                 "--orders", "0"]) == 2
    assert "--orders: must be at least 1" in capsys.readouterr().err
