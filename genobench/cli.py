"""The ``genobench`` command: run, list, report, prepare, compare.

Mistakes of the user or of a plugin (any :class:`~genobench.errors.GenobenchError`) are printed
as one ``Error:`` line with exit status 1, never as a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console

from . import __version__
from .errors import GenobenchError

console = Console(stderr=True, highlight=False)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so every ``finally`` (the output lock) runs."""


def _on_sigterm(signum, frame):
    raise _Terminated()


class _Command(click.Group):
    """Turns genobench errors into one clear line and exit status 1, and SIGTERM into the same
    clean stop as Ctrl-C (exit status 143 instead of 130)."""

    def invoke(self, ctx):
        import signal
        import threading

        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return super().invoke(ctx)
        except GenobenchError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(1)
        except KeyboardInterrupt as interrupt:
            how = "Terminated" if isinstance(interrupt, _Terminated) else "Interrupted"
            click.echo(f"{how}: finished jobs are stored; rerun with --resume.", err=True)
            sys.exit(143 if isinstance(interrupt, _Terminated) else 130)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


@click.group(cls=_Command)
@click.version_option(__version__, prog_name="genobench")
def main():
    """genobench: benchmark generators of synthetic genotype data."""


def _set_size(ctx, param, value):
    """``--size``: the size suite files are parsed at in this process (GENOBENCH_SIZE); each
    job then carries its suite's size itself (:attr:`genobench.runner.Job.size`), so job
    processes and Dask workers elsewhere build the same suites."""
    if value is not None:
        import os

        from .suites import SIZE_ENV

        os.environ[SIZE_ENV] = value
    return value


size_option = click.option(
    "--size", callback=_set_size, expose_value=False, metavar="NAME|FACTOR",
    help="Suite size: a [sizes] name of the suite files (paper: the paper's sample sizes) or "
         "a factor on every population's sample count (0.5, 4); same as GENOBENCH_SIZE.")


def _near_paths(path: Path) -> list[str]:
    """Existing suite files a missing ``path`` was probably meant to be: the same name with
    ``.toml``, close names in its folder, or in ``suites/``."""
    import difflib

    wanted = path.name if path.suffix == ".toml" else f"{path.name}.toml"
    if path.with_name(wanted).is_file():
        return [str(path.with_name(wanted))]
    found = []
    for folder in dict.fromkeys([path.parent, Path("suites")]):
        if folder.is_dir():
            names = sorted(p.name for p in folder.glob("*.toml"))
            found += [str(folder / name) for name in
                      difflib.get_close_matches(wanted, names, n=3, cutoff=0.75)]
    return list(dict.fromkeys(found))[:3]


def _load_specs(paths):
    from .errors import SpecError
    from .suites import load_spec

    if not paths:
        raise GenobenchError("no suite files given (for example: suites/quick_human.toml)")
    for path in paths:
        if not Path(path).exists():
            near = _near_paths(Path(path))
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            raise SpecError(f"{path}: suite file does not exist{hint}")
    specs = [load_spec(path) for path in paths]
    names = [spec.name for spec in specs]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise GenobenchError(f"two suite files share the name {sorted(duplicated)[0]!r}")
    return specs


def _default_out(specs) -> Path:
    if len(specs) == 1:
        return Path("reports") / specs[0].name
    import hashlib

    digest = hashlib.sha1("|".join(sorted(s.name for s in specs)).encode()).hexdigest()[:8]
    return Path("reports") / f"run-{len(specs)}-suites-{digest}"


def _parse_options(values) -> dict:
    """``--option vae.epochs=5`` pairs into {generator: {key: value}} (values parsed as TOML)."""
    import tomllib

    options: dict = {}
    for item in values:
        key, sep, raw = item.partition("=")
        generator, dot, name = key.partition(".")
        if not sep or not dot or not generator or not name:
            raise GenobenchError(f"--option {item!r}: expected GENERATOR.KEY=VALUE")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        options.setdefault(generator, {})[name] = value
    return options


@main.command()
@click.argument("suites", nargs=-1, type=click.Path(path_type=Path))
@click.option("-g", "--generator", "generators", multiple=True,
              help="Generator to run (repeatable); default: the suite's list, else all.")
@click.option("-m", "--metric", "metrics", multiple=True,
              help="Metric to compute (repeatable); default: the suite's list, else all.")
@click.option("--seeds", help="Comma-separated seeds, e.g. 1,2,3; default: the suite's.")
@click.option("--profile", type=click.Choice(["quick", "standard", "paper"]),
              help="Training budget for the models.")
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Output folder; default reports/<suite>.")
@click.option("--resume", is_flag=True, help="Skip jobs whose results already exist in --out.")
@click.option("--overwrite", is_flag=True,
              help="Delete the records and leaderboards already in --out first (by default a "
                   "run adds to them, and the leaderboard covers every record there).")
@click.option("-j", "--jobs", type=int, default=None,
              help="Jobs run at once; default: the CPU cores, at most 4.")
@click.option("--executor", type=click.Choice(["local", "inline", "dask"]), default="local",
              show_default=True, help="local: a process per job; inline: this process; "
                                      "dask: a local Dask cluster.")
@click.option("--scheduler", help="Address of an existing Dask scheduler (implies dask).")
@click.option("--time-limit", type=float, help="Seconds per job before it is stopped.")
@click.option("--memory-limit", type=float, help="GB of memory per job before it is stopped.")
@click.option("--option", "option_values", multiple=True, metavar="GENERATOR.KEY=VALUE",
              help="Generator hyperparameter, e.g. vae.epochs=20 (repeatable).")
@click.option("-q", "--quiet", is_flag=True,
              help="Plain lines instead of the live display: one per job, and a status line "
                   "whenever 10 s pass without one (as without a terminal).")
@size_option
def run(suites, generators, metrics, seeds, profile, out, resume, overwrite, jobs, executor,
        scheduler, time_limit, memory_limit, option_values, quiet):
    """Run generators on SUITES (TOML files; shell globs welcome) and render a leaderboard."""
    from .benchmark import run_benchmark
    from .executors import make_executor
    from .progress import RunProgress

    specs = _load_specs(suites)
    try:
        seed_list = [int(s) for s in seeds.split(",")] if seeds else None
    except ValueError:
        raise GenobenchError(f"--seeds {seeds!r}: expected comma-separated integers") from None
    out = out or _default_out(specs)
    if jobs is None:
        import os

        jobs = max(1, min(os.cpu_count() or 1, 4))
    runner = make_executor(executor, jobs=jobs, scheduler=scheduler)
    with RunProgress(console, quiet=quiet, jobs=jobs) as progress:
        summary = run_benchmark(
            specs, out, executor=runner, resume=resume, overwrite=overwrite,
            generators=list(generators) or None,
            seeds=seed_list, profile=profile, metrics=list(metrics) or None,
            time_limit=time_limit, memory_limit=memory_limit,
            options=_parse_options(option_values),
            on_result=progress.job_done, on_progress=progress.job_progress,
            on_prepare=progress.preparing, on_start=progress.started, title=None,
            prepare_jobs=jobs)
    ran = {job.id for job in summary.ran}
    failed = [r for r in summary.records if not r.ok and r.id in ran]
    lines = [f"{len(summary.ran)} job(s), {len(failed)} failed."]
    if summary.removed:
        lines.append(f"{summary.removed} earlier record(s) deleted (--overwrite).")
    if summary.skipped:
        lines.append(f"Skipped {len(summary.skipped)} finished job(s) (--resume).")
    if summary.earlier.replaced:
        lines.append(f"{len(summary.earlier.replaced)} earlier record(s) of these jobs "
                     "replaced.")
    if summary.earlier.kept:
        lines.append(f"{len(summary.earlier.kept)} earlier record(s) kept: the leaderboard "
                     f"covers all {len(summary.records)} records in {out} (--overwrite starts "
                     "afresh).")
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)
    _print_summary(summary.leaderboard, out, n_records=len(summary.records))


def _print_summary(paths: dict, out: Path | None = None, *, n_records: int | None = None):
    """The scorecard (or ranking) tables from leaderboard.json, then every file written."""
    from .summary import WIDTH, summary_tables

    try:
        data = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        data = {}
    width = min(console.width, WIDTH) if console.is_terminal else WIDTH
    table_console = Console(stderr=True, highlight=False, width=width)
    for table in summary_tables(data):
        table_console.print(table)
    if out is not None:
        console.print(f"Records ({n_records}): {Path(out) / 'results'}/", markup=False,
                      soft_wrap=True)
    names = {"html": "Leaderboard (html)", "md": "Leaderboard (md)",
             "json": "Leaderboard data (json)", "csv": "Leaderboard table (csv)"}
    for fmt, path in paths.items():
        console.print(f"{names.get(fmt, fmt)}: {path}", markup=False, soft_wrap=True)


@main.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def list_(as_json):
    """List every generator, metric and suite source, with the distribution providing it."""
    from .registry import get_registry

    registry = get_registry()
    rows = {"generators": [], "metrics": [], "suite_sources": []}
    for name, cls in sorted(registry.generators.items()):
        rows["generators"].append(dict(
            name=name, description=cls.description, conditional=cls.supports_phenotypes,
            provider=str(registry.providers[("generator", name)])))
    for name, metric in sorted(registry.metrics.items()):
        rows["metrics"].append(dict(
            name=name, family=metric.family, direction=metric.direction, ideal=metric.ideal,
            description=metric.description, provider=str(registry.providers[("metric", name)])))
    for name, source in sorted(registry.suite_sources.items()):
        rows["suite_sources"].append(dict(
            name=name, description=source.description,
            provider=str(registry.providers[("suite source", name)])))
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    from rich.table import Table

    out = Console(highlight=False, width=max(120, Console().width))
    for title, key, columns in (
        ("Generators", "generators", ("name", "conditional", "provider", "description")),
        ("Metrics", "metrics", ("name", "family", "direction", "ideal", "provider")),
        ("Suite sources", "suite_sources", ("name", "provider", "description")),
    ):
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column)
        for row in rows[key]:
            table.add_row(*(str(row[c]) for c in columns))
        out.print(table)


@main.command()
@click.argument("results", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Folder for the leaderboard; default: RESULTS itself.")
@click.option("--title", help="Title of the leaderboard.")
def report(results, out, title):
    """Re-render the leaderboard from stored RESULTS (an output folder) without re-running."""
    from .report import render_leaderboard
    from .results import load_results

    records = load_results(results)
    target = out or (results if results.is_dir() else results.parent)
    if target.name == "results" and out is None:
        target = target.parent
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise GenobenchError(f"{target}: cannot create output folder ({error.strerror})") from None
    paths = render_leaderboard(records, target, title=title)
    _print_summary(paths)


@main.command()
@click.argument("suites", nargs=-1, type=click.Path(path_type=Path))
@click.option("--refresh", is_flag=True, help="Rebuild even when cached.")
@click.option("-j", "--jobs", default=1, show_default=True, help="Suites prepared at once.")
@size_option
def prepare(suites, refresh, jobs):
    """Materialize SUITES ahead of time (simulate or read, apply the panel, split, cache)."""
    from .benchmark import prepare_suites
    from .progress import PrepareProgress

    specs = _load_specs(suites)
    with PrepareProgress(console, total=len(specs), jobs=jobs) as progress:
        prepare_suites(specs, refresh=refresh, jobs=jobs, on_start=progress.suite_started,
                       on_done=progress.suite_done)


@main.command()
@click.option("-g", "--generator", "generator_name", required=True,
              help="Registered generator to train (or that --model holds).")
@click.option("-s", "--suite", "suite_path", required=True, type=click.Path(path_type=Path),
              help="Suite file whose training split the generator learns from.")
@click.option("-n", "--n", "n", required=True, type=click.IntRange(min=1),
              help="Number of synthetic individuals.")
@click.option("-o", "--out", required=True, type=click.Path(path_type=Path),
              help="Output file: .vcf, .vcf.gz (BGZF) or .bed (with .bim/.fam).")
@click.option("--seed", default=1, show_default=True, help="Seed of training and sampling.")
@click.option("--profile", type=click.Choice(["quick", "standard", "paper"]),
              help="Training budget; default: the suite's.")
@click.option("--model", "model_path", type=click.Path(path_type=Path),
              help="A model file saved with --save-model to sample from instead of training.")
@click.option("--save-model", type=click.Path(path_type=Path),
              help="Also save the trained generator here, for a later --model.")
@click.option("--option", "option_values", multiple=True, metavar="GENERATOR.KEY=VALUE",
              help="Generator hyperparameter, e.g. vae.epochs=20 (repeatable).")
@size_option
def generate(generator_name, suite_path, n, out, seed, profile, model_path, save_model,
             option_values):
    """Train a generator on a suite (or load a saved one) and write synthetic individuals.

    The output is usable downstream: PLINK, bcftools and tabix read it. Real-data suites keep
    their REF/ALT letters; simulated ones get A/C placeholders (dosage counts the ALT allele).
    """
    from . import lifecycle
    from .generators import FitContext
    from .io import write_genotypes
    from .modelfile import load_model
    from .registry import get_generator
    from .runner import torch_device
    from .suites import materialize, source_options

    if not out.name.endswith((".vcf", ".vcf.gz", ".vcf.bgz", ".bed")):
        raise GenobenchError(f"--out {out}: use a .vcf, .vcf.gz or .bed file name")
    spec = _load_specs([suite_path])[0]
    suite = materialize(spec)
    seeds = lifecycle.job_seeds(seed)  # the same child seeds as a benchmark job's
    if model_path is not None:
        # A model file holds arrays and a JSON header only (genobench.modelfile): pickles are
        # refused unread; the generator and the suite's panel are checked before building.
        generator = load_model(model_path, generator=generator_name,
                               snp_ids=suite.train.snp_ids, suite=suite.name,
                               device=torch_device())
        console.print(f"Loaded {generator_name} from {model_path}")
    else:
        options = dict(spec.generators.get(generator_name, {}))
        options.update(_parse_options(option_values).get(generator_name, {}))
        # build and fit as a benchmark job does (genobench.lifecycle); a fault of the plugin is
        # one Error: line naming the phase
        generator = lifecycle.build(get_generator(generator_name), options)
        context = FitContext(validation=suite.validation, source=suite.source, suite=suite.name,
                             profile=profile or spec.run.profile, device=torch_device())
        console.print(f"Training {generator_name} on {suite.name} "
                      f"({suite.train.n_samples} individuals x {suite.train.n_snps} SNPs)")
        lifecycle.fit(generator, suite.train, name=generator_name, seeds=seeds, context=context)
        if save_model is not None:
            generator.save(save_model, snp_ids=suite.train.snp_ids, suite=suite.name)
            console.print(f"Saved the trained generator: {save_model}")
    output = lifecycle.generate(generator, suite.train, n, name=generator_name, seeds=seeds)
    synthetic = suite.train.with_dosages(output.dosages, sample_prefix=f"{generator_name}_",
                                         phenotypes=output.conditioning)
    source, options = source_options(spec)
    alleles = None
    if hasattr(source, "alleles"):  # real-data sources know the REF/ALT letters
        base_dir = spec.path.parent if spec.path else Path.cwd()
        alleles = source.alleles(options, base_dir, synthetic.snp_ids)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = write_genotypes(synthetic, out, alleles=alleles)
    console.print(f"Wrote {n} synthetic individuals x {synthetic.n_snps} SNPs: {written}")


@main.command()
@click.argument("baseline", type=click.Path(path_type=Path))
@click.argument("current", type=click.Path(path_type=Path))
@click.option("--tolerance", "tolerance_values", multiple=True, metavar="METRIC=VALUE",
              help="How far METRIC may worsen (absolute), overriding --metric-tolerance "
                   "(repeatable).")
@click.option("--metric-tolerance", type=float, default=None,
              help="How far any metric may worsen (absolute)  [default: 0.01]")
@click.option("--time-tolerance", type=float, default=None,
              help="Factor a phase's time may grow by  [default: 2]")
@click.option("--time-floor", type=float, default=None,
              help="Seconds below which times count as this many  [default: 1]")
@click.option("--changes-only", is_flag=True, help="List only what changed.")
def compare(baseline, current, tolerance_values, metric_tolerance, time_tolerance, time_floor,
            changes_only):
    """Compare CURRENT results with BASELINE (results folders or leaderboard.json files).

    Exits with status 1 when a metric worsens beyond its tolerance (plus the baseline's seed
    spread), a generator seed that succeeded in the baseline fails or is missing, or a phase's
    time grows beyond its factor; 0 otherwise.
    """
    from . import compare as comparing

    comparison = comparing.compare_leaderboards(
        comparing.load_leaderboard(baseline), comparing.load_leaderboard(current),
        tolerances=comparing.parse_tolerances(tolerance_values),
        metric_tolerance=(comparing.METRIC_TOLERANCE if metric_tolerance is None
                          else metric_tolerance),
        time_tolerance=comparing.TIME_TOLERANCE if time_tolerance is None else time_tolerance,
        time_floor=comparing.TIME_FLOOR if time_floor is None else time_floor)
    if sys.stdout.isatty():
        out = Console(highlight=False)
        out.print(comparing.rich_table(comparison, everything=not changes_only))
        out.print(comparison.summary(), style="bold red" if comparison.regressions else "green")
    else:
        click.echo(comparing.format_plain(comparison, everything=not changes_only))
    if comparison.regressions:
        sys.exit(1)

#: ``evaluate``'s files, option -> help; each is a path, passed as ``<option>_path``
#: (``--real-pheno`` as ``real_pheno_path``); the first two are required.
EVALUATE_FILES = {
    "--real": "Real genotypes (held out from training): .vcf, .vcf.gz, or PLINK 1 (.bed or "
              "the .bed/.bim/.fam prefix).",
    "--synthetic": "Synthetic genotypes, same formats; compared with --real on the SNPs both "
                   "share (chromosome, position and alleles; REF/ALT swaps become 2 - x).",
    "--train": "The generator's training genotypes: adds the privacy metrics against them "
               "(privacy_loss, dcr, exact_copies, kinship).",
    "--reference": "Real individuals held out from training and from --real: the scorecard's "
                   "reference (noise floor). Without it, two thirds of --real are set aside.",
    "--real-pheno": "Phenotype table of the real individuals (TSV/CSV, a sample id column): "
                    "the association metrics then run.",
    "--synthetic-pheno": "Phenotype table of the synthetic individuals, same layout.",
    "--json": "Also write the values, notes, warnings and plot curves to this JSON file.",
}


def _file_options(files: dict[str, str]):
    """Decorate a command with one path option per entry of ``files`` (see EVALUATE_FILES)."""
    def decorate(command):
        for position, (flag, text) in reversed(list(enumerate(files.items()))):
            command = click.option(flag, flag.strip("-").replace("-", "_") + "_path",
                                   required=position < 2, type=click.Path(path_type=Path),
                                   help=text)(command)
        return command
    return decorate


@main.command()
@_file_options(EVALUATE_FILES)
@click.option("--no-scorecard", "no_scorecard", is_flag=True,
              help="Only the metric values (--real against --synthetic at equal sizes): no "
                   "reference, baselines or family scores.")
@click.option("--id-column", help="Sample id column of the phenotype tables; default the first.")
@click.option("--strict", is_flag=True,
              help="Refuse when a SNP of --real is missing from another file or cannot be "
                   "matched, instead of comparing on the shared SNPs.")
@click.option("-m", "--metric", "metrics", multiple=True,
              help="Metric to compute (repeatable); default: all registered.")
@click.option("-q", "--quiet", is_flag=True, help="Only the table and the warnings.")
def evaluate(real_path, synthetic_path, train_path, reference_path, real_pheno_path,
             synthetic_pheno_path, json_path, no_scorecard, id_column, strict, metrics, quiet):
    """Score synthetic genotypes made anywhere against real ones with genobench's metrics.

    Sets are compared at equal sizes (the larger subsampled, three draws averaged). Prints the
    metric table and the scorecard (family scores between the baselines and a real reference,
    privacy gates with --train) and, with --json, writes {metric: value, ..., "scorecard":
    {...}, "details": {...}}. Every warning is one line, "warning: <file>: <what> (<count>)",
    also under -q.
    """
    from rich.table import Table

    from .evaluation import evaluate_sets
    from .io import attach_phenotypes, read_phenotypes, read_variants
    from .messages import collect, show
    from .metrics.align import VariantSet, match_snps
    from .registry import get_metric
    from .results import write_json_atomic
    from .runner import torch_device
    from .summary import evaluation_scorecard_table

    for name in metrics:
        get_metric(name)  # an unknown name fails before any file is read
    notices = []

    def read(option, path, pheno=None):
        try:
            with collect(source=str(path)) as caught:
                data, alleles = read_variants(path)
                if pheno is not None:
                    table = read_phenotypes(pheno, id_column=id_column)
                    data = attach_phenotypes(data, table, where=str(pheno))
        finally:
            notices.extend(caught)  # filled when the with block ends, even on an error
        return VariantSet(data, alleles, str(path), option)

    try:
        given = [read("--real", real_path, real_pheno_path),
                 read("--synthetic", synthetic_path, synthetic_pheno_path)]
        if train_path is not None:
            given.append(read("--train", train_path))
        if reference_path is not None:
            given.append(read("--reference", reference_path))
        match = match_snps(*given, strict=strict)
        notices.extend(match.notices())
    finally:
        show(notices, lambda line: click.echo(line, err=True))
    real, synthetic = match.sets[:2]
    train = match.sets[2] if train_path is not None else None
    reference = match.sets[-1] if reference_path is not None else None
    inputs = {option.strip("-"): dict(path=variants.name, n=data.n_samples,
                                      n_snps=variants.data.n_snps,
                                      left_out=match.left_out.get(variants.name, {}),
                                      swapped=match.swapped.get(variants.name, 0),
                                      matched_by="chromosome, position and alleles")
              for option, variants, data in zip(
                  [variants.option for variants in given], given, match.sets, strict=True)}
    inputs["real"]["shared_snps"] = real.n_snps
    if not quiet:
        console.print(f"Evaluating {synthetic.n_samples} synthetic against "
                      f"{real.n_samples} real individuals on {real.n_snps} shared SNPs"
                      + (f", {train.n_samples} training individuals" if train else ""))
    with collect() as caught:
        scored = evaluate_sets(real, synthetic, train=train, reference=reference,
                               metric_names=list(metrics) or None, device=torch_device(),
                               scorecard=not no_scorecard)
    values, curves, info, usage = scored.values, scored.curves, scored.info, scored.usage
    show(caught, lambda line: click.echo(line, err=True))
    notices.extend(caught)
    table = Table(title="genobench evaluate", title_justify="left")
    for column in ("metric", "family", "value", "ideal", "better", "note"):
        table.add_column(column, overflow="fold")
    better = {"higher": "higher", "lower": "lower", "target": "closer to ideal"}
    for name in sorted(values, key=lambda n: (info[n]["family"], n)):
        value = values[name]["value"]
        table.add_row(name, info[name]["family"], "n/a" if value is None else f"{value:.4g}",
                      "" if info[name]["ideal"] is None else f"{info[name]['ideal']:g}",
                      better.get(info[name]["direction"], "?"),
                      values[name]["note"] or "")
    Console(highlight=False, width=max(120, Console().width)).print(table)
    if scored.scorecard is not None:
        Console(highlight=False, width=max(100, Console().width)).print(
            evaluation_scorecard_table(scored))
    if json_path is not None:
        payload = {name: result["value"] for name, result in values.items()}
        if scored.scorecard is not None:
            payload["scorecard"] = scored.scorecard
        payload["details"] = dict(sizes=scored.sizes,
            notes={name: result["note"] for name, result in values.items()},
            seconds={name: result["seconds"] for name, result in values.items()},
            metric_info=info, curves=curves, inputs=inputs, usage=usage,
            warnings=[notice.to_json() for notice in notices])
        try:
            write_json_atomic(json_path, payload)
        except OSError as error:
            raise GenobenchError(f"--json {json_path}: cannot write ({error.strerror})") \
                from None
        if not quiet:
            console.print(f"Wrote {json_path}")


if __name__ == "__main__":  # pragma: no cover
    main()
