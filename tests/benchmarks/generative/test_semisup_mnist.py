"""The semi-supervised MNIST benchmark's bookkeeping (no training here)."""

import functools
import json
import typing

import numpy as np
import pytest
import torch

from benchmarks.generative import semisup_mnist
from curiosity.serialization import safe_load
from generative.gan.train import TrainGanConfig
from generative.gan.train import train as train_gan
from tests.fakes import killed_while_writing


def write_run(results_dir, epochs):
    runs = results_dir / "semisup_mnist_runs"
    runs.mkdir(parents=True)
    record = {"name": "main", "seed": 0, "overrides": {}, "test_error": 0.02, "minutes": 1.0,
              "seconds_per_epoch": 1.0, "epochs": epochs, "labels": 100,
              "history": [{"epoch": epochs, "test_error": 0.02, "test_error_raw": 0.015}]}
    (runs / "main_seed0.json").write_text(json.dumps(record))


def test_a_finished_run_of_another_budget_is_refused_not_reused(tmp_path):
    write_run(tmp_path, epochs=60)
    args = semisup_mnist.Args(epochs=120, results_dir=tmp_path, checkpoint_root=tmp_path / "ckpt")
    with pytest.raises(SystemExit, match="made with 60 epochs and 100 labels, not 120"):
        semisup_mnist._run(args, "main", 0, {})
    same = semisup_mnist.Args(epochs=60, results_dir=tmp_path, checkpoint_root=tmp_path / "ckpt")
    record = semisup_mnist._run(same, "main", 0, {})
    assert record["test_error_raw"] == 0.015  # filled in from the history of records that predate the field
    assert not (tmp_path / "ckpt").exists()  # nothing was trained


def test_the_report_carries_the_command_that_ran(tmp_path, monkeypatch):
    write_run(tmp_path, epochs=60)
    monkeypatch.setattr("sys.argv", ["semisup_mnist.py", "--seeds", "0", "--epochs", "60", "--no-ablations"])
    monkeypatch.setenv("TORCH_THREADS", "1")
    args = semisup_mnist.Args(seeds=[0], epochs=60, ablations=False, results_dir=tmp_path)
    summary = semisup_mnist.main(args)
    expected = ("env TORCH_THREADS=1 python -m benchmarks.generative.semisup_mnist --seeds 0 --epochs 60 "
                "--no-ablations")
    assert summary["command"] == expected
    report = (tmp_path / "semisup_mnist.md").read_text()
    assert f"Command: `{summary['command']}`" in report and "| 0 | 2.00% | 1.50% |" in report
    assert "![test error per epoch](semisup_mnist_curves.png)" in report
    assert (tmp_path / "semisup_mnist_curves.png").read_bytes().startswith(b"\x89PNG")


def test_every_ablation_can_be_chosen_by_name_and_runs_alone(tmp_path, monkeypatch):
    assert set(typing.get_args(semisup_mnist.AblationName)) == set(semisup_mnist.ABLATIONS)
    trained = []
    monkeypatch.setattr(semisup_mnist, "_run", lambda args, name, seed, overrides: trained.append(name) or {
        "seed": seed, "overrides": overrides, "test_error": 0.02, "test_error_raw": 0.02, "minutes": 1.0,
        "seconds_per_epoch": 1.0})
    args = semisup_mnist.Args(seeds=[], ablation_names=("minibatch_discrimination",), results_dir=tmp_path)
    summary = semisup_mnist.main(args)
    assert trained == ["minibatch_discrimination"]
    assert list(summary["ablations"]) == ["minibatch_discrimination"]
    # one process per ablation: a finished one stays in the summary of the next
    (tmp_path / "semisup_mnist_runs").mkdir()
    (tmp_path / "semisup_mnist_runs" / "no_feature_matching_seed0.json").write_text("{}")
    summary = semisup_mnist.main(args)
    assert list(summary["ablations"]) == ["no_feature_matching", "minibatch_discrimination"]


def test_every_summary_lists_the_ablations_finished_before_it(tmp_path, monkeypatch):
    """A process that trains one ablation (hours) first rewrites the summary after its finished main seed:
    that interim summary, too, lists the ablations other processes finished."""
    write_run(tmp_path, epochs=60)
    no_fm = json.loads((tmp_path / "semisup_mnist_runs" / "main_seed0.json").read_text())
    no_fm |= {"name": "no_feature_matching", "overrides": {"generator_loss": "standard"}, "test_error": 0.05}
    (tmp_path / "semisup_mnist_runs" / "no_feature_matching_seed0.json").write_text(json.dumps(no_fm))

    def still_training(cfg):
        raise KeyboardInterrupt  # the minibatch ablation is hours long: the process is killed in it

    monkeypatch.setattr(semisup_mnist, "train", still_training)
    args = semisup_mnist.Args(seeds=[0], epochs=60, ablation_names=("minibatch_discrimination",),
                              results_dir=tmp_path, checkpoint_root=tmp_path / "ckpt")  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        semisup_mnist.main(args)
    summary = json.loads((tmp_path / "semisup_mnist.json").read_text())
    assert list(summary["ablations"]) == ["no_feature_matching"]
    assert summary["ablations"]["no_feature_matching"]["test_error"] == 0.05
    assert "| no_feature_matching (" in (tmp_path / "semisup_mnist.md").read_text()


def test_a_process_resuming_an_ablation_leaves_the_summary_it_has_not_changed(tmp_path, monkeypatch):
    """The summary names the command that wrote it: a process killed while resuming an ablation (its main seed
    finished before) must not rewrite it with its own; one that finds a new finished run rewrites it."""
    write_run(tmp_path, epochs=60)
    monkeypatch.setattr("sys.argv", ["semisup_mnist.py", "--seeds", "0", "--epochs", "60", "--no-ablations"])
    semisup_mnist.main(semisup_mnist.Args(seeds=[0], epochs=60, ablations=False, results_dir=tmp_path))
    written = ["semisup_mnist.json", "semisup_mnist.md", "semisup_mnist_curves.png"]
    before = {name: (tmp_path / name).read_bytes() for name in written}

    def still_training(cfg):
        raise KeyboardInterrupt

    monkeypatch.setattr(semisup_mnist, "train", still_training)
    monkeypatch.setattr("sys.argv", ["semisup_mnist.py", "--ablation-names", "minibatch_discrimination"])
    args = semisup_mnist.Args(seeds=[0], epochs=60, ablation_names=("minibatch_discrimination",),
                              results_dir=tmp_path, checkpoint_root=tmp_path / "ckpt")  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        semisup_mnist.main(args)
    assert {name: (tmp_path / name).read_bytes() for name in written} == before
    # another process finished an ablation: the summary now lists it, under the command that wrote it
    no_fm = json.loads((tmp_path / "semisup_mnist_runs" / "main_seed0.json").read_text())
    no_fm |= {"name": "no_feature_matching", "overrides": {"generator_loss": "standard"}, "test_error": 0.05}
    (tmp_path / "semisup_mnist_runs" / "no_feature_matching_seed0.json").write_text(json.dumps(no_fm))
    with pytest.raises(KeyboardInterrupt):
        semisup_mnist.main(args)
    summary = json.loads((tmp_path / "semisup_mnist.json").read_text())
    assert list(summary["ablations"]) == ["no_feature_matching"]
    assert summary["command"].endswith("semisup_mnist --ablation-names minibatch_discrimination")


def test_an_unknown_ablation_is_named_before_anything_runs(tmp_path):
    args = semisup_mnist.Args(seeds=[0], ablation_names=("no_dropout",), results_dir=tmp_path / "out")
    with pytest.raises(ValueError, match=r"unknown ablation\(s\) \['no_dropout'\]"):
        semisup_mnist.main(args)
    assert not (tmp_path / "out").exists()


# -- the ensemble (issue #26: 50 labels, 10 models) -------------------------------------------------------


@pytest.fixture
def tiny_gan(monkeypatch):
    """The benchmark's runs at a size that trains in a second (the data set is the real MNIST)."""
    tiny = functools.partial(TrainGanConfig, iterations_per_epoch=2, batch_size=20, train_subset=500,
                             test_subset=100, threads=1)  # fmt: skip
    monkeypatch.setattr(semisup_mnist, "TrainGanConfig", tiny)
    return tiny


def ensemble_args(tmp_path, **kw):
    base = dict(labels_per_class=1, ensemble=2, epochs=2, lr_decay_fraction=0.0, results_dir=tmp_path / "res",
                checkpoint_root=tmp_path / "ckpt", progress=False, device="cpu")  # fmt: skip
    return semisup_mnist.Args(**(base | kw))


def test_ensemble_members_train_apart_resume_and_are_scored_at_the_end(tmp_path, tiny_gan, monkeypatch):
    # member 0 alone (one process): nothing is scored yet
    assert semisup_mnist.main(ensemble_args(tmp_path, members=[0])) is None
    assert not (tmp_path / "res" / "semisup_mnist_10labels.json").exists()
    # member 1 was killed after its first epoch: its checkpoint is there, its record is not
    killed = tiny_gan(seed=1, epochs=1, lr_decay_fraction=0.0, labels_per_class=1, label_seed=0,
                      checkpoint_dir=tmp_path / "ckpt" / "ensemble10_seed1", progress=False)  # fmt: skip
    first_epoch = train_gan(killed)["history"][0][0]
    summary = semisup_mnist.main(ensemble_args(tmp_path, members=[1]))
    record = json.loads((tmp_path / "res" / "semisup_mnist_runs" / "ensemble10_seed1.json").read_text())
    assert record["history"][0] == first_epoch and len(record["history"]) == 2  # resumed, not restarted
    assert not (tmp_path / "ckpt" / "ensemble10_seed1").exists()  # finished: the resume state is gone
    # the last member to finish scored the ensemble: the mean of the two members' probabilities
    # (their test probabilities sit beside their records, committed with them, not in the checkpoints)
    runs_dir = tmp_path / "res" / "semisup_mnist_runs"
    saved = [safe_load(runs_dir / f"ensemble10_seed{k}_test_probs.pt") for k in (0, 1)]
    mean = (saved[0]["probs"].numpy() + saved[1]["probs"].numpy()) / 2
    expected = float(np.mean(mean.argmax(1) != saved[0]["labels"].numpy()))
    written = json.loads((tmp_path / "res" / "semisup_mnist_10labels.json").read_text())
    assert written == summary
    assert summary["labels"] == 10 and summary["ensemble_size"] == 2 and summary["test_images"] == 100
    assert summary["ensemble_error"] == pytest.approx(expected, abs=1e-12)
    alone = float(np.mean(saved[0]["probs"].numpy().argmax(1) != saved[0]["labels"].numpy()))
    assert summary["ensemble_error_of_first_k_members"] == pytest.approx([alone, expected], abs=1e-12)
    runs = [json.loads((tmp_path / "res" / "semisup_mnist_runs" / f"ensemble10_seed{k}.json").read_text())
            for k in (0, 1)]  # fmt: skip
    assert summary["member_errors"] == pytest.approx([r["test_error"] for r in runs])
    assert summary["member_minutes"] == [r["minutes"] for r in runs] and len(summary["member_commands"]) == 2
    mean_confusion = np.zeros((10, 10), dtype=int)
    np.add.at(mean_confusion, (saved[0]["labels"].numpy(), mean.argmax(1)), 1)
    assert summary["ensemble_confusion"] == mean_confusion.tolist() and len(summary["member_confusions"]) == 2
    # a later session: the checkpoints are gone, the committed results are enough
    import shutil

    shutil.rmtree(tmp_path / "ckpt")
    # everything finished: a rerun trains nothing and scores the same
    monkeypatch.setattr(semisup_mnist, "train", lambda cfg: pytest.fail("a finished member was trained"))
    assert semisup_mnist.main(ensemble_args(tmp_path))["ensemble_error"] == summary["ensemble_error"]
    # the summary names the labelled images (one per class here), and its figure shows them beside the misses
    y_train = semisup_mnist.load_dataset(semisup_mnist.TrainGanConfig().resolved(), "train")[1]
    assert len(y_train) == 500
    assert sorted(y_train[summary["labelled_train_indices"]].tolist()) == list(range(10))
    figure = tmp_path / "res" / summary["errors_figure"]
    assert figure.name == "semisup_mnist_10labels_errors.png" and figure.read_bytes()[:4] == b"\x89PNG"
    # a finished member is never reused for an ensemble with other labels: another draw trains its own
    with pytest.raises(SystemExit, match=r"made with \{'label_seed': 0\}, not \{'label_seed': 3\}"):
        semisup_mnist._run(ensemble_args(tmp_path), "ensemble10", 0, {"label_seed": 3})
    started = []

    def record_and_stop(cfg):
        started.append(cfg)
        raise KeyboardInterrupt

    monkeypatch.setattr(semisup_mnist, "train", record_and_stop)
    with pytest.raises(KeyboardInterrupt):
        semisup_mnist.main(ensemble_args(tmp_path, ensemble_label_seed=3))
    assert started[0].label_seed == 3 and started[0].checkpoint_dir.name == "ensemble10_labelseed3_seed0"


def test_an_unfinished_ensemble_prints_the_error_of_its_finished_members(tmp_path, tiny_gan, capsys):
    """Two of three members finished: nothing is written, and the printed error is that of the two members'
    mean probabilities, recomputed here with numpy."""
    assert semisup_mnist.main(ensemble_args(tmp_path, ensemble=3, members=[0])) is None
    assert "finished members" not in capsys.readouterr().out  # one member: no ensemble yet
    assert semisup_mnist.main(ensemble_args(tmp_path, ensemble=3, members=[1])) is None
    out = capsys.readouterr().out
    runs = tmp_path / "res" / "semisup_mnist_runs"
    saved = [safe_load(runs / f"ensemble10_seed{k}_test_probs.pt") for k in (0, 1)]
    mean = (saved[0]["probs"].numpy() + saved[1]["probs"].numpy()) / 2
    expected = float(np.mean(mean.argmax(1) != saved[0]["labels"].numpy()))
    assert f"the ensemble of the 2 finished members [0, 1]: test error {expected:.2%}" in out
    assert "--members 2" in out and not (tmp_path / "res" / "semisup_mnist_10labels.json").exists()


def test_ensembles_on_other_label_draws_get_their_own_names():
    assert semisup_mnist.ensemble_names(5, 0) == ("ensemble50", "semisup_mnist_50labels")
    draw1 = ("ensemble50_labelseed1", "semisup_mnist_50labels_labelseed1")
    assert semisup_mnist.ensemble_names(5, 1) == draw1
    papers = ("ensemble50_seeddata1", "semisup_mnist_50labels_seeddata1")
    assert semisup_mnist.ensemble_names(5, 1, "numpy") == papers
    assert semisup_mnist.ensemble_names(5, 0, "numpy")[0] == "ensemble50_seeddata0"


def test_an_ensemble_on_the_papers_label_draw_trains_and_scores_its_own_members(tmp_path, tiny_gan):
    """``--ensemble-label-draw numpy``: its members train on the labels the paper's code draws (a brute-force
    transcription of its selection on the 500 images the tiny runs see), under their own names."""
    summary = semisup_mnist.main(ensemble_args(tmp_path, ensemble_label_seed=1, ensemble_label_draw="numpy"))
    runs = tmp_path / "res" / "semisup_mnist_runs"
    records = [json.loads((runs / f"ensemble10_seeddata1_seed{k}.json").read_text()) for k in (0, 1)]
    assert all(r["overrides"] == {"label_seed": 1, "label_draw": "numpy"} for r in records)
    y_train = semisup_mnist.load_dataset(semisup_mnist.TrainGanConfig().resolved(), "train")[1].numpy()
    inds = np.random.RandomState(1).permutation(len(y_train))
    theirs = [int(next(i for i in inds if y_train[i] == j)) for j in range(10)]  # count 1: the first of each
    assert summary["labelled_train_indices"] == theirs and summary["label_draw"] == "numpy"
    assert summary["labelled_examples_seen"] == 10 and summary["member_label_seeds"] == [1, 1]
    assert (tmp_path / "res" / "semisup_mnist_10labels_seeddata1.json").is_file()
    assert not (tmp_path / "res" / "semisup_mnist_10labels.json").exists()  # the torch draw's summary
    # the torch draw with the same seed is another ensemble: its members are not these
    with pytest.raises(SystemExit, match=r"made with .*'label_draw': 'numpy'.*, not \{'label_seed': 1\}"):
        semisup_mnist._run(ensemble_args(tmp_path), "ensemble10_seeddata1", 0, {"label_seed": 1})


def test_an_ensemble_whose_members_draw_their_own_labels(tmp_path, tiny_gan):
    """``--ensemble-labels per-member`` (the paper's code's README: runs with other --seed and --seed_data,
    combined): member k trains on the draw of label seed s + k, and the summary counts every label seen."""
    args = ensemble_args(tmp_path, ensemble_label_seed=1, ensemble_label_draw="numpy",
                         ensemble_labels="per-member")  # fmt: skip
    summary = semisup_mnist.main(args)
    runs = tmp_path / "res" / "semisup_mnist_runs"
    records = [json.loads((runs / f"ensemble10_ownlabels_seeddata1_seed{k}.json").read_text())
               for k in (0, 1)]  # fmt: skip
    assert [r["overrides"] for r in records] == [{"label_seed": 1, "label_draw": "numpy"},
                                                 {"label_seed": 2, "label_draw": "numpy"}]  # fmt: skip
    y_train = semisup_mnist.load_dataset(semisup_mnist.TrainGanConfig().resolved(), "train")[1].numpy()
    theirs = []
    for seed_data in (1, 2):
        inds = np.random.RandomState(seed_data).permutation(len(y_train))
        theirs.append([int(next(i for i in inds if y_train[i] == j)) for j in range(10)])
    assert summary["labelled_train_indices"] == theirs and summary["member_label_seeds"] == [1, 2]
    assert summary["labels"] == 10
    assert summary["labelled_examples_seen"] == len(set(theirs[0]) | set(theirs[1]))
    assert summary["ensemble_labels"] == "per-member"
    assert (tmp_path / "res" / "semisup_mnist_10labels_ownlabels_seeddata1_errors.png").is_file()
    own_torch_draws = semisup_mnist.ensemble_names(5, 0, "torch", per_member=True)
    assert own_torch_draws[0] == "ensemble50_ownlabels_labelseed0"


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"ensemble": -1}, ValueError, "ensemble must be >= 0"),
        ({"ensemble": 0, "members": [0]}, ValueError, "give --ensemble N too"),
        ({"members": [1, 2]}, ValueError, r"members must lie in \[0, 2\) for --ensemble 2, got \[2\]"),
        ({"device": "gpu"}, ValueError, "device must be 'auto'"),
        ({"ensemble_label_seed": -1}, ValueError, "ensemble_label_seed must be >= 0, got -1"),
        ({"ensemble_label_draw": "jax"}, ValueError, r"ensemble_label_draw must be one of \('torch', 'nu"),
    ],
)
def test_ensemble_arguments_are_checked_before_anything_is_written(tmp_path, kw, error, match):
    with pytest.raises(error, match=match):
        semisup_mnist.main(ensemble_args(tmp_path, **kw))
    assert not (tmp_path / "res").exists()


def test_the_minibatch_discrimination_ablation_command_runs(tmp_path, tiny_gan, monkeypatch):
    """The README's command for the ablation not yet run, parsed as the command line does, at a tiny size."""
    import tyro

    argv = ["--seeds", "0", "--epochs", "1", "--ablation-names", "no_feature_matching",
            "minibatch_discrimination", "--results-dir", str(tmp_path), "--checkpoint-root",
            str(tmp_path / "ckpt"), "--no-progress"]
    args = tyro.cli(semisup_mnist.Args, args=argv)
    assert args.ablation_names == ("no_feature_matching", "minibatch_discrimination") and args.ablations
    write_run(tmp_path, epochs=1)  # the main run and the first ablation are finished already
    no_fm = json.loads((tmp_path / "semisup_mnist_runs" / "main_seed0.json").read_text())
    no_fm |= {"name": "no_feature_matching", "overrides": {"generator_loss": "standard"}}
    (tmp_path / "semisup_mnist_runs" / "no_feature_matching_seed0.json").write_text(json.dumps(no_fm))
    monkeypatch.setattr("sys.argv", ["semisup_mnist.py", *argv])
    summary = semisup_mnist.main(args)
    assert list(summary["ablations"]) == ["no_feature_matching", "minibatch_discrimination"]
    run = json.loads((tmp_path / "semisup_mnist_runs" / "minibatch_discrimination_seed0.json").read_text())
    assert run["overrides"] == {"minibatch_kernels": 100, "minibatch_kernel_dim": 5} and run["epochs"] == 1
    assert 0.0 <= run["test_error"] <= 1.0
    assert "| minibatch_discrimination (" in (tmp_path / "semisup_mnist.md").read_text()


def test_the_original_minibatch_discrimination_ablation_runs(tmp_path, tiny_gan):
    """Minibatch discrimination as their code trains it: the minimax generator loss, three generator steps."""
    args = semisup_mnist.Args(seeds=[], epochs=1, ablation_names=("minibatch_discrimination_original",),
                              results_dir=tmp_path, progress=False, device="cpu")  # fmt: skip
    semisup_mnist.main(args)
    path = tmp_path / "semisup_mnist_runs" / "minibatch_discrimination_original_seed0.json"
    run = json.loads(path.read_text())
    assert run["overrides"] == {"minibatch_kernels": 100, "minibatch_kernel_dim": 5,
                                "generator_loss": "minimax", "generator_steps": 3}  # fmt: skip
    assert run["history"][0]["loss_gen"] < 0.0  # log(1 - D(G(z))) is never positive


def test_checkpoints_default_to_the_results_folder(tmp_path, tiny_gan, monkeypatch):
    """Unfinished runs checkpoint under ``semisup_mnist_runs/.checkpoints`` (commit_sweeps.sh commits it)."""
    seen, real_train = [], semisup_mnist.train

    def train_and_record(cfg):
        seen.append(cfg.checkpoint_dir)
        return real_train(cfg)

    monkeypatch.setattr(semisup_mnist, "train", train_and_record)
    semisup_mnist.main(ensemble_args(tmp_path, checkpoint_root=None, ensemble=1))
    assert seen == [tmp_path / "res" / "semisup_mnist_runs" / ".checkpoints" / "ensemble10_seed0"]
    assert not seen[0].exists() and (tmp_path / "res" / "semisup_mnist_10labels.json").is_file()


# -- resuming: settings, interrupted writes, checkpoints of another run ----------------------------------


def test_a_finished_run_of_another_learning_rate_decay_is_refused_not_reused(tmp_path):
    write_run(tmp_path, epochs=60)
    path = tmp_path / "semisup_mnist_runs" / "main_seed0.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | {"lr_decay_fraction": 0.5}))
    args = semisup_mnist.Args(epochs=60, lr_decay_fraction=0.25, results_dir=tmp_path,
                              checkpoint_root=tmp_path / "ckpt")  # fmt: skip
    with pytest.raises(SystemExit, match=r"made with lr_decay_fraction 0\.5, not 0\.25"):
        semisup_mnist._run(args, "main", 0, {})
    same = semisup_mnist.Args(epochs=60, lr_decay_fraction=0.5, results_dir=tmp_path,
                              checkpoint_root=tmp_path / "ckpt")  # fmt: skip
    assert semisup_mnist._run(same, "main", 0, {})["test_error"] == 0.02
    assert not (tmp_path / "ckpt").exists()  # nothing was trained


def fake_train(epochs_trained):
    """``train`` of the GAN, without training: a result as it returns one, after ``epochs_trained`` epochs."""

    def train(cfg):
        cfg.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        history = [{"epoch": e + 1, "test_error": 0.1, "test_error_raw": 0.2} for e in range(epochs_trained)]
        probs = [torch.full((4, 10), 0.1)]
        return {"test_error": 0.1, "history": [history], "seconds": 60.0, "seconds_per_epoch": 1.0,
                "epochs": cfg.epochs, "labels": 100, "sample_png": None,
                "test_probs_per_model": probs, "test_labels": torch.arange(4)}  # fmt: skip

    return train


def test_a_record_cut_short_by_a_kill_is_never_left_for_a_finished_run(tmp_path, monkeypatch):
    """The record is what marks a run (or an ensemble member another process is waiting for) finished: it is
    either absent or whole."""
    monkeypatch.setattr(semisup_mnist, "train", fake_train(2))
    args = semisup_mnist.Args(epochs=2, results_dir=tmp_path, checkpoint_root=tmp_path / "ckpt",
                              progress=False)  # fmt: skip
    record = tmp_path / "semisup_mnist_runs" / "main_seed0.json"
    with monkeypatch.context() as patch:
        killed_while_writing(patch, "main_seed0.json")
        with pytest.raises(KeyboardInterrupt):
            semisup_mnist._run(args, "main", 0, {})
    assert not record.exists() or json.loads(record.read_text())["epochs"] == 2
    assert semisup_mnist._run(args, "main", 0, {})["epochs"] == 2  # the rerun trains it again, or reuses it
    assert json.loads(record.read_text())["lr_decay_fraction"] == 0.5


def test_the_checkpoint_of_a_longer_run_is_refused_not_recorded_as_a_shorter_one(tmp_path, tiny_gan):
    """A 3-epoch run's checkpoint, left where a 2-epoch run of the same name looks: resuming it trains nothing
    and would record the 3-epoch model as a 2-epoch run."""
    longer = tiny_gan(seed=0, epochs=3, lr_decay_fraction=0.5, labels_per_class=1,
                      checkpoint_dir=tmp_path / "ckpt" / "main_seed0", progress=False)  # fmt: skip
    train_gan(longer)
    args = semisup_mnist.Args(epochs=2, labels_per_class=1, results_dir=tmp_path / "res",
                              checkpoint_root=tmp_path / "ckpt", progress=False, device="cpu")  # fmt: skip
    with pytest.raises(SystemExit, match="holds a run trained for 3 epochs, not 2"):
        semisup_mnist._run(args, "main", 0, {})
    assert not (tmp_path / "res" / "semisup_mnist_runs" / "main_seed0.json").exists()


def test_the_summary_names_the_labels_it_was_run_with(tmp_path):
    run = {"seed": 0, "test_error": 0.03, "test_error_raw": 0.03, "minutes": 1.0, "seconds_per_epoch": 1.0}
    args = semisup_mnist.Args(labels_per_class=5, results_dir=tmp_path)
    summary = semisup_mnist._summarise(args, [run], {})
    assert summary["labels"] == 50 and summary["task"].startswith("MNIST, 50 labels (5 per class),")
