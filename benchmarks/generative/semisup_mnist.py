"""Benchmark: semi-supervised MNIST with the improved GAN (100 labels), several seeds, plus ablations;
or an ensemble (the paper's 50 labels, 10 models).

Usage::

    nohup env TORCH_THREADS=1 python -m benchmarks.generative.semisup_mnist --seeds 0 1 2 --no-progress \
        > logs/semisup.log 2>&1 &
    # an ensemble, one process per core, each training its own members; the last to finish scores it
    env TORCH_THREADS=1 python -m benchmarks.generative.semisup_mnist --labels-per-class 5 --ensemble 10 \
        --members 0 1 2 3 4 --no-progress

Resumable: each finished run writes ``benchmarks/results/semisup_mnist_runs/<name>_seed<k>.json`` and is
skipped next time; an unfinished run resumes from its checkpoint under
``benchmarks/results/semisup_mnist_runs/.checkpoints/`` (gitignored; ``scripts/commit_sweeps.sh`` commits
those of unfinished runs, so that a run carries over to the next machine), deleted once the run's record is
written (the record and test probabilities are the run's result; ``curiosity gan train`` keeps its
checkpoints for a trained model). After every
run the summary ``benchmarks/results/semisup_mnist.json`` and report ``semisup_mnist.md`` are rewritten. A
finished run made with other epochs, labels or settings is an error, not a silent reuse (use another
``--results-dir``).

Ensemble (``--ensemble N``): member ``k`` is a run like the others (model seed ``k``, its own checkpoint, so a
killed member resumes), all members sharing the labels chosen by ``--ensemble-label-seed``. Each finished
member keeps its test-set class probabilities beside its record (``<name>_seed<k>_test_probs.pt``, to be
committed with it: members trained in different sessions score together); once all ``N`` are finished, the
command (whichever process finishes last, or a rerun) scores their averaged probabilities on the 10,000 test
images (:mod:`benchmarks.generative.ensemble_scoring`) and writes
``benchmarks/results/semisup_mnist_<labels>labels.json`` (``labels``, ``ensemble_size``,
``member_errors`` and ``ensemble_error`` as fractions, confusion matrices, the labelled images' indices, the
command, minutes per member) and ``..._errors.png`` (each class's labelled images beside the test images of
that class the ensemble gets wrong). Before that, a process that finds two or more members finished prints
their ensemble's error so far (``--members`` of finished ones only reads them). Another draw of labels
(``--ensemble-label-seed s``, s > 0) trains its own members (``ensemble50_labelseed<s>_seed<k>``) and
writes ``semisup_mnist_50labels_labelseed<s>.json``;
``--ensemble-label-draw numpy`` draws the labels as the paper's code does (``np.random.RandomState(s)``
shuffles the training set, the first 5 of each class are labelled; their default ``--seed_data`` is 1):
members ``ensemble50_seeddata<s>_seed<k>``, summary ``semisup_mnist_50labels_seeddata<s>.json``.
``--ensemble-labels per-member`` gives member k its own draw, label seed s + k: the ensembles of the paper's
code's README ("run these files multiple times using different inputs for the seed and seed_data arguments,
and then combine the results"), whose members have seen up to 10 x 50 labels together (the summary's
``labelled_examples_seen``); with ``--ensemble-label-seed 1 --ensemble-label-draw numpy``, member k is their
``--seed_data k+1``: members ``ensemble50_ownlabels_seeddata1_seed<k>``, summary
``semisup_mnist_50labels_ownlabels_seeddata1.json``. Paper (50 labels): single models 2.21% +- 1.36%, an
ensemble of 10 1.42%.

The headline error is the paper's: the discriminator's weights averaged over training (decay 0.9999, their
``test_batch``); the error of the last raw weights is reported beside it.

Target: <= 1.5% test error within 2 hours on 2 CPU cores (paper: 0.93% +- 0.065% after 300 epochs).

References:
    Salimans et al. "Improved Techniques for Training GANs", NeurIPS 2016, table 1.
"""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch

from benchmarks.generative.ensemble_scoring import (
    confusion,
    ensemble_errors,
    errors_as_members_join,
    mean_probs,
    plot_labelled_and_missed,
)
from benchmarks.provenance import command_line, environment
from benchmarks.sweep.results import atomic_write
from curiosity.runtime import resolve_device
from curiosity.serialization import atomic_save, safe_load
from generative.gan.semisup import LabelDraw, check_label_choice, select_labelled
from generative.gan.train import TrainGanConfig, load_dataset, train

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
#: the ablations, as changes to the main run (feature matching, no minibatch discrimination, as in the paper's
#: semi-supervised MNIST code): the generator's standard GAN loss instead of feature matching; minibatch
#: discrimination added to the discriminator, feature matching kept (the paper found minibatch discrimination
#: gives better samples, a worse classifier); and minibatch discrimination trained as their
#: ``train_cifar_minibatch_discrimination.py`` trains it: the generator on the minimax loss
#: ``log(1 - D(G(z)))``, three generator updates per discriminator update, no feature matching (their MNIST
#: architecture and learning rate kept)
_MINIBATCH = {"minibatch_kernels": 100, "minibatch_kernel_dim": 5}
ABLATIONS = {
    "no_feature_matching": {"generator_loss": "standard"},
    "minibatch_discrimination": _MINIBATCH,
    "minibatch_discrimination_original": _MINIBATCH | {"generator_loss": "minimax", "generator_steps": 3},
}
AblationName = Literal["no_feature_matching", "minibatch_discrimination", "minibatch_discrimination_original"]
#: a run's test-set class probabilities, beside its record in ``semisup_mnist_runs/`` (committed with it, so
#: that ensemble members trained in different sessions can be scored together; 400 KB for MNIST)
PROBS_SUFFIX = "_test_probs.pt"
#: the test-error-per-epoch figure of every run in the summary, beside it
CURVES_PNG = "semisup_mnist_curves.png"
#: the paper's 50-label MNIST errors (Salimans et al. 2016, table 1: 221 +- 136 of 10,000; ensemble: 142)
PAPER_50_LABELS = {"member_error": 0.0221, "member_error_std": 0.0136, "ensemble_error": 0.0142}


@dataclass
class Args:
    """Semi-supervised MNIST benchmark (improved GAN, feature matching)."""

    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """Seeds of the main runs (each also chooses its own 100 labels)."""
    epochs: int = 120
    """Epochs per run (600 iterations each): about 110 minutes on one CPU thread at 53 s per epoch, inside
    the target's 2 hours on 2 cores (the paper trains 300)."""
    lr_decay_fraction: float = 0.5
    """Linear learning-rate decay to 0 over this final fraction of training."""
    labels_per_class: int = 10
    """Labels per class (10 -> 100 labels, the paper's headline setting)."""
    ablations: bool = True
    """After the main seeds, run each ablation once (seed ``ablation_seed``) at the same budget."""
    ablation_seed: int = 0
    """Seed of the ablation runs."""
    ablation_names: tuple[AblationName, ...] = tuple(ABLATIONS)
    """Which ablations ``--ablations`` runs (e.g. one per process, to run them side by side); the summary
    also lists the others already finished in ``results_dir``."""
    checkpoint_root: Path | None = None
    """Checkpoints of unfinished runs, one folder per run, deleted when the run finishes (default:
    ``<results_dir>/semisup_mnist_runs/.checkpoints``, gitignored)."""
    results_dir: Path = RESULTS
    """Where the summary, report, per-run files and sample grid go."""
    ensemble: int = 0
    """Train an ensemble of this many members instead of the seeds and ablations (0: off); member k has
    model seed k; all share the labels of --ensemble-label-seed."""
    members: list[int] | None = None
    """Which ensemble members this process trains (e.g. --members 3 4, one process per core; default: all)."""
    ensemble_label_seed: int = 0
    """Seed choosing the labelled examples every ensemble member shares (with --ensemble-labels per-member:
    member k's seed is this + k)."""
    ensemble_labels: Literal["shared", "per-member"] = "shared"
    """shared: every member trains on the same labelled examples (an ensemble that has seen 50 labels);
    per-member: member k draws its own with label seed ensemble_label_seed + k, as the paper's code's README
    describes its ensembles (runs with different --seed and --seed_data, combined); the ensemble has then
    seen up to 10 x 50 labels, which its summary counts."""
    ensemble_label_draw: LabelDraw = "torch"
    """How that seed draws them: torch (this toolkit's draw) or numpy (the paper's code's: its --seed_data 1
    is --ensemble-label-seed 1 --ensemble-label-draw numpy)."""
    device: str = "auto"
    """Where to train: auto (CUDA when available, else CPU), cpu, cuda or cuda:N."""
    progress: bool = True
    """Progress bars."""


def _record_path(args: Args, name: str, seed: int) -> Path:
    return args.results_dir / "semisup_mnist_runs" / f"{name}_seed{seed}.json"


def _run(args: Args, name: str, seed: int, overrides: dict) -> dict:
    out = _record_path(args, name, seed)
    if out.is_file():
        record = json.loads(out.read_text())
        made = (record["epochs"], record["labels"])
        wanted = (args.epochs, 10 * args.labels_per_class)
        if made != wanted:
            raise SystemExit(f"{out} was made with {made[0]} epochs and {made[1]} labels, not {wanted[0]} "
                             f"and {wanted[1]}: move it, or give another --results-dir")
        if record.get("overrides", overrides) != overrides:
            raise SystemExit(f"{out} was made with {record['overrides']}, not {overrides}: move it, or give "
                             "another --results-dir")
        made_decay = record.get("lr_decay_fraction", args.lr_decay_fraction)  # older records lack it
        if made_decay != args.lr_decay_fraction:
            raise SystemExit(f"{out} was made with lr_decay_fraction {made_decay}, not "
                             f"{args.lr_decay_fraction}: move it, or give another --results-dir")
        print(f"[semisup_mnist] {name} seed {seed}: done already ({out})", flush=True)
        record.setdefault("test_error_raw", record["history"][-1].get("test_error_raw"))  # older records
        return record
    root = args.checkpoint_root or args.results_dir / "semisup_mnist_runs" / ".checkpoints"
    ckpt = root / f"{name}_seed{seed}"
    cfg = TrainGanConfig(
        seed=seed,
        epochs=args.epochs,
        lr_decay_fraction=args.lr_decay_fraction,
        labels_per_class=args.labels_per_class,
        checkpoint_dir=ckpt,
        progress=args.progress,
        device=args.device,
        **overrides,
    )
    print(f"[semisup_mnist] {name} seed {seed}: training ({cfg.epochs} epochs) -> {ckpt}", flush=True)
    result = train(cfg)
    trained = result["history"][0][-1]["epoch"]
    if trained != args.epochs:  # the checkpoint of a longer run: the loop had nothing left to train
        raise SystemExit(f"{ckpt} holds a run trained for {trained} epochs, not {args.epochs}: move it, or "
                         "give another --checkpoint-root")
    record = {
        "name": name,
        "seed": seed,
        "overrides": overrides,
        "test_error": result["test_error"],
        "test_error_raw": result["history"][0][-1]["test_error_raw"],
        "minutes": result["seconds"] / 60.0,
        "seconds_per_epoch": result["seconds_per_epoch"],
        "epochs": result["epochs"],
        "labels": result["labels"],
        "lr_decay_fraction": args.lr_decay_fraction,
        "command": command_line("benchmarks.generative.semisup_mnist"),
        "environment": environment(),
        "history": result["history"][0],
    }
    # the test-set class probabilities, for an ensemble's scoring
    test_probs = {"probs": result["test_probs_per_model"][0], "labels": result["test_labels"]}
    atomic_save(test_probs, _probs_path(args, name, seed))
    if name == "main" and result["sample_png"]:
        shutil.copyfile(result["sample_png"], args.results_dir / f"semisup_mnist_samples_seed{seed}.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, json.dumps(record, indent=1).encode())  # a reader sees no record or all of it
    shutil.rmtree(ckpt)  # finished: the record and probabilities are the result, the resume state goes
    print(f"[semisup_mnist] {name} seed {seed}: test error {record['test_error']:.2%}", flush=True)
    return record


def _probs_path(args: Args, name: str, seed: int) -> Path:
    return args.results_dir / "semisup_mnist_runs" / f"{name}_seed{seed}{PROBS_SUFFIX}"


def _member_probs(args: Args, name: str, members: Iterable[int]) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The finished members' test-set class probabilities and the true classes they were scored against."""
    probs, labels = [], None
    for k in members:
        path = _probs_path(args, name, k)
        if not path.is_file():
            raise SystemExit(f"{path} is missing: each finished member keeps its test probabilities beside "
                             "its record; retrain that member (move its record away) or restore the file")
        saved = safe_load(path)
        if labels is not None and not torch.equal(saved["labels"], labels):
            raise SystemExit(f"{path} was scored on other test images than the members before it")
        probs.append(saved["probs"])
        labels = saved["labels"]
    if labels is None:
        raise ValueError("no members to read")
    return probs, labels


def ensemble_names(
    labels_per_class: int, label_seed: int, draw: LabelDraw = "torch", per_member: bool = False
) -> tuple[str, str]:
    """The run name of an ensemble's members and the stem of its summary files: ``ensemble50`` and
    ``semisup_mnist_50labels`` for label seed 0, with ``_labelseed<s>`` added for another torch draw of labels
    and ``_seeddata<s>`` for a numpy draw (the paper's code's flag), and ``_ownlabels`` before it when each
    member draws its own labels (from seed s), so that ensembles on different draws share a results folder."""
    if draw == "numpy":
        suffix = f"_seeddata{label_seed}"
    else:
        suffix = f"_labelseed{label_seed}" if label_seed or per_member else ""
    if per_member:
        suffix = "_ownlabels" + suffix
    labels = 10 * labels_per_class
    return f"ensemble{labels}{suffix}", f"semisup_mnist_{labels}labels{suffix}"


def _ensemble(args: Args) -> dict | None:
    """Train this process's members (finished ones are skipped); score the ensemble once all are finished."""
    per_member = args.ensemble_labels == "per-member"
    name, stem = ensemble_names(args.labels_per_class, args.ensemble_label_seed, args.ensemble_label_draw,
                                per_member)  # fmt: skip
    label_seeds = [args.ensemble_label_seed + (k if per_member else 0) for k in range(args.ensemble)]

    def overrides(member: int) -> dict:
        chosen: dict = {"label_seed": label_seeds[member]}
        if args.ensemble_label_draw != "torch":  # the records of torch-drawn members predate the field
            chosen["label_draw"] = args.ensemble_label_draw
        return chosen

    for member in args.members if args.members is not None else range(args.ensemble):
        _run(args, name, member, overrides(member))
    finished = [k for k in range(args.ensemble) if _record_path(args, name, k).is_file()]
    if len(finished) < args.ensemble:
        missing = sorted(set(range(args.ensemble)) - set(finished))
        print(f"[semisup_mnist] ensemble: {len(finished)} of {args.ensemble} members finished; it is scored "
              f"once members {missing} are (--members {' '.join(map(str, missing))})", flush=True)
        if len(finished) > 1:  # how far the finished ones are already: printed, not written to the summary
            _, so_far = ensemble_errors(*_member_probs(args, name, finished))
            print(f"[semisup_mnist] the ensemble of the {len(finished)} finished members {finished}: "
                  f"test error {so_far:.2%}", flush=True)  # fmt: skip
        return None
    records = [_run(args, name, k, overrides(k)) for k in range(args.ensemble)]  # all finished: checked, read
    probs, labels = _member_probs(args, name, range(args.ensemble))
    member_errors, ensemble_error = ensemble_errors(probs, labels)
    mean = mean_probs(probs)
    # the members' labelled images (their select_labelled draws) and the scored test images, for the figure
    cfg = TrainGanConfig(labels_per_class=args.labels_per_class, label_draw=args.ensemble_label_draw)
    cfg = cfg.resolved()
    x_train, y_train = load_dataset(cfg, "train")
    labelled = [select_labelled(y_train, cfg.labels_per_class, s, cfg.label_draw) for s in label_seeds]
    seen = torch.cat(labelled).unique()
    x_test, y_test = load_dataset(cfg, "test")
    if not torch.equal(y_test[: len(labels)], labels):
        raise SystemExit(f"the members were scored on other test images than the first {len(labels)} of "
                         "the MNIST test set here: is this the copy they were trained with?")  # fmt: skip
    summary = {
        "task": f"MNIST, {10 * args.labels_per_class} labels ({args.labels_per_class} per class), an "
                f"ensemble of {args.ensemble} improved GANs (feature matching), mean class probabilities",
        "labels": 10 * args.labels_per_class,
        "ensemble_size": args.ensemble,
        "member_errors": member_errors,
        "ensemble_error": ensemble_error,
        "ensemble_error_of_first_k_members": errors_as_members_join(probs, labels),
        "member_error_mean": statistics.fmean(member_errors),
        "member_error_std": statistics.stdev(member_errors) if len(member_errors) > 1 else 0.0,
        "member_errors_raw_weights": [r.get("test_error_raw") for r in records],
        "ensemble_confusion": confusion(mean, labels),
        "member_confusions": [confusion(p, labels) for p in probs],
        "member_seeds": list(range(args.ensemble)),
        "label_seed": args.ensemble_label_seed,
        "label_draw": args.ensemble_label_draw,
        "ensemble_labels": args.ensemble_labels,
        "member_label_seeds": label_seeds,
        # the labelled examples the ensemble has seen, all members together (shared: `labels`)
        "labelled_examples_seen": len(seen),
        # shared: the members' one draw; per-member: one list per member
        "labelled_train_indices": [d.tolist() for d in labelled] if per_member else labelled[0].tolist(),
        "test_images": len(labels),
        "epochs": args.epochs,
        "lr_decay_fraction": args.lr_decay_fraction,
        "member_minutes": [r["minutes"] for r in records],
        "target": "<= 0.015 ensemble test error",
        "paper_50_labels": PAPER_50_LABELS,
        # whichever process scored it: --members only chose what that process trained
        "command": command_line("benchmarks.generative.semisup_mnist", omit=("--members",)),
        "environment": environment(),
        "member_commands": [r.get("command") for r in records],
    }
    shown = labelled[0][:0] if per_member else labelled[0]  # per-member: no one labelled set to show
    summary["errors_figure"] = plot_labelled_and_missed(
        args.results_dir / f"{stem}_errors.png", x_train[shown], y_train[shown], x_test, mean, labels
    )
    out = args.results_dir / f"{stem}.json"
    atomic_write(out, json.dumps(summary, indent=1).encode())
    print(f"[semisup_mnist] ensemble of {args.ensemble}: test error {ensemble_error:.2%} (members: "
          f"{', '.join(f'{e:.2%}' for e in member_errors)}) -> {out}", flush=True)
    return summary


def _check(args: Args) -> None:
    """Name a bad argument before anything is trained or written."""
    unknown = [name for name in args.ablation_names if name not in ABLATIONS]
    if unknown:
        raise ValueError(f"unknown ablation(s) {unknown}; known: {list(ABLATIONS)}")
    if args.ensemble < 0:
        raise ValueError(f"ensemble must be >= 0 (0: no ensemble), got {args.ensemble}")
    check_label_choice(args.ensemble_label_seed, args.ensemble_label_draw, prefix="ensemble_label")
    if args.members is not None:
        if not args.ensemble:
            raise ValueError("members choose which members of an --ensemble to train: give --ensemble N too")
        outside = [k for k in args.members if not 0 <= k < args.ensemble]
        if outside:
            raise ValueError(f"members must lie in [0, {args.ensemble}) for --ensemble {args.ensemble}, "
                             f"got {outside}")
    resolve_device(args.device)


def _summarise(args: Args, main: list[dict], ablations: dict[str, dict]) -> dict:
    errors = [r["test_error"] for r in main]
    summary = {
        "task": f"MNIST, {10 * args.labels_per_class} labels ({args.labels_per_class} per class), improved "
                "GAN with feature matching",
        "labels": 10 * args.labels_per_class,
        "epochs": args.epochs,
        "lr_decay_fraction": args.lr_decay_fraction,
        "seeds": [r["seed"] for r in main],
        "test_error_per_seed": errors,
        "test_error_median": statistics.median(errors) if errors else None,
        "test_error_mean": statistics.fmean(errors) if errors else None,
        "test_error_raw_per_seed": [r.get("test_error_raw") for r in main],
        "minutes_per_seed": [r["minutes"] for r in main],
        "seconds_per_epoch": [r["seconds_per_epoch"] for r in main],
        "target": "<= 0.015 test error within 120 minutes on 2 CPU cores",
        "command": command_line("benchmarks.generative.semisup_mnist"),
        "paper": {"test_error": 0.0093, "std": 0.00065, "epochs": 300},
        "ablations": {
            k: {
                "seed": v["seed"],
                "test_error": v["test_error"],
                "test_error_raw": v.get("test_error_raw"),
                "minutes": v["minutes"],
                "overrides": v["overrides"],
            }
            for k, v in ablations.items()
        },
        "curves": CURVES_PNG if _runs_to_plot(main, ablations) else None,
    }
    return summary


def _runs_to_plot(main: list[dict], ablations: dict[str, dict]) -> list[tuple[str, dict]]:
    """(legend label, record) of every run with a test-error history."""
    runs = [(f"main, seed {r['seed']}", r) for r in main] + [
        (f"{name}, seed {r['seed']}", r) for name, r in ablations.items()
    ]
    return [(label, r) for label, r in runs if r.get("history")]


def _plot_curves(args: Args, main: list[dict], ablations: dict[str, dict]) -> None:
    """Test error (averaged weights, log scale) per epoch of every run, with the target and the paper's
    number, written as ``CURVES_PNG``."""
    runs = _runs_to_plot(main, ablations)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot()
    for label, r in runs:
        epochs = [h["epoch"] for h in r["history"]]
        ax.plot(epochs, [100 * h["test_error"] for h in r["history"]], label=label,
                linestyle="-" if label.startswith("main") else "--")
    ax.axhline(1.5, color="grey", linewidth=0.8, linestyle=":", label="target 1.5%")
    ax.axhline(0.93, color="black", linewidth=0.8, linestyle=":", label="paper 0.93% (300 epochs)")
    ax.set(yscale="log", xlabel="epoch", ylabel="test error (%)",
           title=f"Semi-supervised MNIST, {10 * args.labels_per_class} labels")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.results_dir / CURVES_PNG, dpi=110)


def _report(args: Args, s: dict) -> None:
    lines = [
        "# Semi-supervised MNIST (improved GAN, feature matching)",
        "",
        f"{s['labels']} labels, {s['epochs']} epochs of 600 iterations, lr 0.003 (Adam, beta1 0.5) decayed "
        f"linearly to 0 over the last {s['lr_decay_fraction']:.0%}; one CPU thread per run.",
        "",
        "Test error: the discriminator's averaged weights (decay 0.9999, as the paper's code tests);",
        "raw weights: its last ones. Minutes are wall-clock time on the shared machine.",
        "",
        "| seed | test error | raw weights | minutes | s/epoch |",
        "| --- | --- | --- | --- | --- |",
    ]
    for seed, e, raw, m, spe in zip(
        s["seeds"], s["test_error_per_seed"], s["test_error_raw_per_seed"], s["minutes_per_seed"],
        s["seconds_per_epoch"], strict=True,
    ):
        lines.append(f"| {seed} | {e:.2%} | {_percent(raw)} | {m:.0f} | {spe:.0f} |")
    if s["test_error_median"] is not None:
        lines += [
            "",
            f"Median test error: **{s['test_error_median']:.2%}** (paper, 300 epochs: 0.93% +- 0.065%; "
            "target <= 1.5% within 2 hours).",
        ]
    if s["ablations"]:
        lines += ["", "## Ablations (same budget)", "", "| run | seed | test error | raw weights |",
                  "| --- | --- | --- | --- |"]
        for name, a in s["ablations"].items():
            lines.append(f"| {name} ({a['overrides']}) | {a['seed']} | {a['test_error']:.2%} | "
                         f"{_percent(a.get('test_error_raw'))} |")
    if s.get("curves"):
        lines += ["", f"![test error per epoch]({s['curves']})"]
    if s["seeds"]:
        lines += ["", f"![samples](semisup_mnist_samples_seed{s['seeds'][0]}.png)"]
    lines += ["", f"Command: `{s['command']}`", ""]
    atomic_write(args.results_dir / "semisup_mnist.md", "\n".join(lines).encode())


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


def main(args: Args | None = None) -> dict | None:
    """Run (or resume) every seed and ablation and return the summary; with ``--ensemble``, this process's
    members, then the ensemble's summary once every member is finished (``None`` before)."""
    if args is None:
        import tyro

        args = tyro.cli(Args)
    _check(args)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    if args.ensemble:
        return _ensemble(args)
    main_runs: list[dict] = []
    ablations: dict[str, dict] = {}
    summary = None
    for seed in args.seeds:
        main_runs.append(_run(args, "main", seed, {}))
        summary = _update_summary(args, main_runs, ablations)
    if args.ablations:
        for name in args.ablation_names:
            ablations[name] = _run(args, name, args.ablation_seed, ABLATIONS[name])
            summary = _update_summary(args, main_runs, ablations)
    return summary if summary is not None else _update_summary(args, main_runs, ablations)


def _update_summary(args: Args, main_runs: list[dict], ablations: dict[str, dict]) -> dict:
    """Write the summary, its report and curves, unless the summary on disk says the same already (its
    command aside): a process that resumes one unfinished ablation must not stamp its command on a summary
    whose results it has not changed. Returns the summary now on disk."""
    ablations = _with_finished_ablations(args, ablations)
    summary = json.loads(json.dumps(_summarise(args, main_runs, ablations)))
    path = args.results_dir / "semisup_mnist.json"
    if path.is_file():
        on_disk = json.loads(path.read_text())
        if {**on_disk, "command": None} == {**summary, "command": None}:
            return on_disk
    atomic_write(path, json.dumps(summary, indent=1).encode())
    if summary["curves"]:
        _plot_curves(args, main_runs, ablations)
    _report(args, summary)
    return summary


def _with_finished_ablations(args: Args, ablations: dict[str, dict]) -> dict[str, dict]:
    """``ablations`` (those this process ran) and every other ablation finished in ``results_dir`` (e.g. by
    another process), in ``ABLATIONS``' order: every summary, interim ones included, lists them all."""
    found = {
        name: _run(args, name, args.ablation_seed, overrides)
        for name, overrides in ABLATIONS.items()
        if name not in ablations and _record_path(args, name, args.ablation_seed).is_file()
    }
    merged = found | ablations
    return {name: merged[name] for name in ABLATIONS if name in merged}


if __name__ == "__main__":
    main()
