"""The `policyqa` command line: ingest, ask, serve, eval, eval-retrieval."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .settings import Settings, get_settings

app = typer.Typer(help="PolicyQA 政策问答: cited answers from Chinese policy speeches, fully offline.",
                  no_args_is_help=True, add_completion=False)
out = Console()
err = Console(stderr=True)

IndexOpt = Annotated[Optional[Path], typer.Option("--index", help="Index directory (default: POLICYQA_INDEX_DIR or var/index).")]


def _settings(index: Path | None, **overrides) -> Settings:
    """Process settings with command-line overrides applied."""
    base = get_settings()
    updates = {k: v for k, v in overrides.items() if v is not None}
    if index is not None:
        updates["index_dir"] = index
    return base.model_copy(update=updates) if updates else base


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]错误 error:[/] {message}")
    raise typer.Exit(code)


def _load_pipeline_or_fail(settings: Settings, leg: str | None):
    """The pipeline for `settings`, or exit 2 with the reason (no index, built with another encoder, bad generator)."""
    from index.store import IndexNotFoundError, RebuildRequiredError

    from .answer.base import GeneratorConfigError
    from .qa import load_pipeline

    try:
        return load_pipeline(settings, leg=leg)
    except (IndexNotFoundError, RebuildRequiredError, GeneratorConfigError) as exc:
        _fail(str(exc))


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (.txt .md .html .docx .pdf), searched recursively.")] = None,
    index: IndexOpt = None,
    remove: Annotated[list[str], typer.Option("--remove", help="Remove a file (path or file name) from the index.")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-index everything (needed after changing encoder or chunking).")] = False,
    chunk_size: Annotated[Optional[int], typer.Option(help="Override POLICYQA_CHUNK_SIZE.")] = None,
) -> None:
    """Clean, chunk and index documents; unchanged files are skipped."""
    from index.store import update_index

    from .qa import build_encoder

    settings = _settings(index, chunk_size=chunk_size)
    if not paths and not remove:
        _fail("give at least one file or folder to ingest, or --remove NAME")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            report = update_index(
                settings.index_dir, list(paths or []), build_encoder(settings),
                chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap,
                hnsw_threshold=settings.hnsw_threshold, remove=list(remove or []), rebuild=rebuild,
                progress=progress,
            )
        except ValueError as exc:
            _fail(str(exc))
    table = Table(title=f"ingest → {settings.index_dir}", show_header=True)
    table.add_column("状态 status"), table.add_column("文件 files"), table.add_column("原因 reason")
    for name in report.indexed:
        table.add_row("[green]indexed", name, "")
    for name in report.unchanged:
        table.add_row("[dim]unchanged", name, "")
    for name in report.removed:
        table.add_row("[yellow]removed", name, "")
    for name, reason in report.failed:
        table.add_row("[red]failed", name, reason)
    out.print(table)
    out.print(f"{len(report.indexed)} indexed, {len(report.unchanged)} unchanged, {len(report.removed)} removed, "
              f"{len(report.failed)} failed; {report.chunks_total} chunks in the index; {report.seconds:.1f} s")
    if report.failed:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, e.g. 招商引资有哪些要求？")],
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer object as JSON.")] = False,
    top_k: Annotated[Optional[int], typer.Option(help="Passages to retrieve.")] = None,
    leg: Annotated[Optional[str], typer.Option(help="Retrieval leg: hybrid, bm25 or dense.")] = None,
) -> None:
    """Answer one question with numbered citations."""
    from .api.schemas import AnswerOut
    from .qa import answer_question

    settings = _settings(index, top_k=top_k)
    if not question.strip():
        _fail("the question is empty")
    pipeline = _load_pipeline_or_fail(settings, leg)
    answer = answer_question(pipeline, question)
    payload = AnswerOut.from_answer(answer)
    if as_json:
        sys.stdout.write(payload.model_dump_json(indent=2) + "\n")
        return
    if payload.rewritten_question:
        out.print(f"[dim]检索问题 standalone question: {payload.rewritten_question}[/]", highlight=False)
    out.print(payload.answer, markup=False)
    if payload.fallback:
        out.print(f"\n[yellow]大模型不可用，已改用摘录式回答 LLM unavailable, extractive fallback:[/] {payload.fallback_reason}",
                  highlight=False)
    if payload.citations:
        out.print("\n[bold]来源 Sources[/]")
        for c in payload.citations:
            where = " · ".join(x for x in (c.title, c.date, c.section) if x)
            out.print(f"[{c.n}] {c.source}  {where}  (字 {c.start}–{c.end})")
            out.print(f"    {c.quote or c.text}", style="dim", markup=False)
    else:
        out.print("\n[bold]可能相关的段落 Possibly related[/]")
        for i, r in enumerate(payload.retrieved[:3], 1):
            out.print(f"- {r.source} {r.section or ''}: {r.text[:80]}…", markup=False)
    grounded = "" if payload.grounded_ratio is None else f" · grounded {payload.grounded_ratio:.0%}"
    out.print(f"\n[dim]{payload.generator} · {payload.timings_ms['total']:.0f} ms{grounded}[/]")


@app.command()
def serve(
    index: IndexOpt = None,
    host: Annotated[Optional[str], typer.Option(help="Bind address.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port.")] = None,
) -> None:
    """Serve the web chat and the HTTP API."""
    import uvicorn

    from .api.app import create_app

    settings = _settings(index, host=host, port=port)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


@app.command("eval")
def evaluate(
    questions: Annotated[Optional[Path], typer.Argument(help="Question file (JSONL), e.g. ../shared/eval/dev.jsonl.")] = None,
    index: IndexOpt = None,
    output: Annotated[Optional[Path], typer.Option("--out", help="JSON report (default var/eval/report.json; .md and .html are written beside it).")] = None,
    leg: Annotated[Optional[str], typer.Option(help="Retrieval leg: hybrid, bm25 or dense.")] = None,
    top_k: Annotated[Optional[int], typer.Option(help="Passages to retrieve.")] = None,
    chunk_size: Annotated[Optional[int], typer.Option(help="Re-chunk into a temporary index with this chunk size (from the current index's documents, or --corpus).")] = None,
    corpus: Annotated[Optional[list[Path]], typer.Option("--corpus", help="Build the temporary index from these files/folders instead of the current index.")] = None,
    generator: Annotated[Optional[str], typer.Option(help="Answer generator (one of POLICYQA_GENERATOR's values).")] = None,
    judge: Annotated[bool, typer.Option("--judge/--no-judge", help="Also rate answers with an LLM judge (OpenAI-compatible endpoint; off by default).")] = False,
    judge_url: Annotated[Optional[str], typer.Option(help="Judge endpoint, e.g. http://127.0.0.1:11434/v1 (default POLICYQA_LLM_BASE_URL).")] = None,
    judge_model: Annotated[Optional[str], typer.Option(help="Judge model name (default POLICYQA_LLM_MODEL).")] = None,
    floors: Annotated[Optional[Path], typer.Option("--floors", help="Quality gate: exit 1 when a figure is below its floor in this file (eval/floors.json).")] = None,
    compare: Annotated[Optional[tuple[Path, Path]], typer.Option("--compare", help="Compare two JSON reports (OLD NEW) instead of running questions.")] = None,
) -> None:
    """Score answer quality on a question file; writes JSON, Markdown and HTML reports (or compares two runs)."""
    if compare:
        _compare_reports(*compare, output)
        return
    import os
    import tempfile
    from typing import get_args

    from eval.floors import FloorsFileError, check_floors, load_floors
    from eval.judge import JudgeUnavailableError, judge_summary, make_judge
    from eval.rechunk import rechunked_index
    from eval.report import write_reports
    from eval.run import QuestionFileError, load_questions, run_eval, write_report
    from index.store import IndexNotFoundError, RebuildRequiredError

    from .qa import answer_question, build_encoder

    if questions is None:
        _fail("give a question file (e.g. ../shared/eval/dev.jsonl), or --compare OLD.json NEW.json")
    allowed = get_args(Settings.model_fields["generator"].annotation)
    if generator is not None and generator not in allowed:
        _fail(f"unknown generator {generator!r}: choose from {', '.join(allowed)}")
    if leg is not None and leg not in ("hybrid", "bm25", "dense"):
        _fail(f"unknown leg {leg!r}: choose from hybrid, bm25, dense")
    if corpus and not chunk_size:
        _fail("--corpus builds a temporary index and needs --chunk-size")
    settings = _settings(index, top_k=top_k, generator=generator)
    output = output or Path("var/eval/report.json")
    try:
        qs = load_questions(questions)
        gate = load_floors(floors) if floors else None
    except (OSError, QuestionFileError, FloorsFileError) as exc:
        _fail(str(exc))
    judge_fn = None
    if judge:
        key_env = getattr(settings, "llm_api_key_env", "POLICYQA_LLM_API_KEY")
        try:
            judge_fn = make_judge(judge_url or getattr(settings, "llm_base_url", None),
                                  judge_model or getattr(settings, "llm_model", None), os.environ.get(key_env))
        except JudgeUnavailableError as exc:
            _fail(str(exc))

    with tempfile.TemporaryDirectory(prefix="policyqa-eval-") as scratch:
        if chunk_size:
            err.print(f"re-chunking into a temporary index (chunk size {chunk_size})…")
            try:
                n = rechunked_index(Path(scratch) / "index", build_encoder(settings), chunk_size,
                                    source_index=settings.index_dir, corpus=list(corpus or []),
                                    chunk_overlap=settings.chunk_overlap, hnsw_threshold=settings.hnsw_threshold)
            except (IndexNotFoundError, RebuildRequiredError, ValueError) as exc:
                _fail(str(exc))
            err.print(f"{n} chunks of at most {chunk_size} characters")
            settings = settings.model_copy(update={"index_dir": Path(scratch) / "index", "chunk_size": chunk_size})
        pipeline = _load_pipeline_or_fail(settings, leg)
        started = time.perf_counter()
        with Progress(TextColumn("eval {task.fields[current]}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task("eval", total=len(qs), current="")
            done = [0]

            def progress(r) -> None:
                done[0] += 1
                bar.update(task, advance=1, current=r.id)
                if not err.is_terminal:  # logs (CI) get one line per question instead of a bar
                    err.print(f"[{done[0]}/{len(qs)}] {r.id} {'ok' if not r.failures else ', '.join(r.failures)} "
                              f"{r.latency_ms:.0f} ms", markup=False, highlight=False)

            summary, results = run_eval(qs, lambda q: answer_question(pipeline, q), progress=progress, judge=judge_fn)
        config = {"questions": str(questions), "leg": leg or settings.retrieval_leg, "top_k": settings.top_k,
                  "encoder": pipeline.index.manifest.get("encoder", {}).get("name"), "generator": pipeline.generator.name,
                  "chunk_size": pipeline.index.manifest.get("chunker", {}).get("chunk_size"),
                  "index": str(index or settings.index_dir) if not chunk_size else f"temporary (re-chunked {chunk_size})",
                  "generated_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                  "seconds": round(time.perf_counter() - started, 2)}
        if judge_fn is not None:
            config["judge"] = {"model": judge_model or getattr(settings, "llm_model", None),
                               **judge_summary([r.judge for r in results if r.judge])}
    payload = write_report(output, summary, results, config)
    md_path, html_path = write_reports(output, payload)
    table = Table(title=f"eval {questions.name} ({len(qs)} questions)")
    table.add_column("figure"), table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, "n/a" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value)))
    out.print(table)
    for r in results:
        mark = "✗" if r.failures else "✓"
        out.print(f"{mark} {r.id} rank={r.evidence_rank} answered={r.answered} missed={r.key_points_missed}"
                  + (f" causes={r.failures}" if r.failures else ""), markup=False)
    out.print(f"report: {output}, {md_path}, {html_path}")
    if gate is not None:
        _enforce_floors(check_floors(summary, gate), floors)


def _enforce_floors(checks, floors: Path) -> None:
    """Print each floor check; exit 1 naming every figure outside its floor."""
    failed = [c for c in checks if not c.passed]
    for c in checks:
        (err if not c.passed else out).print(("[red]✗[/] " if not c.passed else "[green]✓[/] ") + c.message)
    if failed:
        err.print(f"[bold red]quality gate failed:[/] {len(failed)} of {len(checks)} figures outside their floors "
                  f"in {floors}: " + "; ".join(c.message for c in failed))
        raise typer.Exit(1)
    out.print(f"quality gate passed: {len(checks)} figures within the floors in {floors}")


def _compare_reports(old_path: Path, new_path: Path, output: Path | None) -> None:
    """Print and write what changed between two eval reports."""
    from eval.compare import ReportFileError, compare_reports, load_report
    from eval.report import fmt, fmt_delta, write_comparison

    try:
        old, new = load_report(old_path), load_report(new_path)
    except ReportFileError as exc:
        _fail(str(exc))
    comparison = compare_reports(old, new, str(old_path), str(new_path))
    output = output or new_path.parent / f"compare-{old_path.stem}-{new_path.stem}.json"
    md_path = write_comparison(output, comparison)
    table = Table(title=f"{old_path.name} → {new_path.name}")
    for name in ("figure", "old", "new", "delta", "verdict"):
        table.add_column(name, justify="left" if name in ("figure", "verdict") else "right")
    colour = {"better": "green", "worse": "red"}
    for f in comparison["figures"]:
        style = colour.get(f["verdict"])
        table.add_row(f["name"], fmt(f["old"]), fmt(f["new"]), fmt_delta(f["delta"]),
                      f"[{style}]{f['verdict']}[/]" if style else f["verdict"])
    out.print(table)
    for kind, style in (("worse", "red"), ("better", "green"), ("mixed", "yellow")):
        entries = comparison["questions"][kind]
        out.print(f"[bold {style}]{kind}: {len(entries)}[/]")
        for e in entries:
            out.print(f"  {e['id']} {e['question'][:40]}: " + "; ".join(e["changes"]), markup=False)
    if comparison["questions"]["only_old"] or comparison["questions"]["only_new"]:
        out.print(f"only in old: {comparison['questions']['only_old']}; only in new: {comparison['questions']['only_new']}",
                  markup=False)
    out.print(f"comparison: {output} and {md_path}")


@app.command("eval-retrieval")
def eval_retrieval(
    paths: Annotated[list[Path], typer.Argument(help="Benchmark folder (corpus.jsonl, queries.jsonl, optional qrels/*.tsv) or those files.")],
    output: Annotated[Optional[Path], typer.Option("--out", help="JSON figures (default var/eval/retrieval-<name>.json; a .md is written beside it).")] = None,
    cache: Annotated[Path, typer.Option("--cache", help="Where benchmark indexes are kept and reused while the corpus is unchanged.")] = Path("var/eval-retrieval"),
    split: Annotated[str, typer.Option(help="qrels file to use when qrels/ holds several (BEIR: test, dev, train).")] = "test",
    legs: Annotated[str, typer.Option("--legs", help="Comma-separated legs to score: bm25, dense, hybrid.")] = "bm25,dense,hybrid",
    chunk_size: Annotated[Optional[int], typer.Option(help="Re-chunk passages to this many characters (default: one passage = one chunk).")] = None,
    baseline: Annotated[bool, typer.Option("--baseline/--no-baseline", help="Also score plain jieba + rank_bm25 (default parameters).")] = True,
    limit: Annotated[Optional[int], typer.Option(help="Score only the first N queries (quick checks).")] = None,
) -> None:
    """Score retrieval on a BEIR-style benchmark: nDCG@10, recall@k, MRR@10, latency per leg and a BM25 baseline."""
    from eval.report import write_retrieval_report
    from eval.retrieval import BASELINE, LEGS, DatasetError, cached_index, evaluate_retrieval, load_retrieval_set

    from .qa import build_encoder

    settings = get_settings()
    chosen = [leg.strip() for leg in legs.split(",") if leg.strip()]
    unknown = [leg for leg in chosen if leg not in LEGS]
    if unknown:
        _fail(f"unknown leg(s) {', '.join(unknown)}: choose from {', '.join(LEGS)}")
    try:
        dataset = load_retrieval_set(paths, split=split)
    except DatasetError as exc:
        _fail(str(exc))
    if limit:
        dataset.queries = dataset.queries[:limit]
    for note in dataset.notes:
        err.print(f"[yellow]note:[/] {note}")
    encoder = build_encoder(settings)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        tasks: dict[str, int] = {}
        logged: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)
            tenth = 10 * done // max(total, 1)
            if not err.is_terminal and total and tenth > logged.get(stage, 0):  # logs get a line per 10%
                logged[stage] = tenth
                err.print(f"{stage}: {done}/{total}", markup=False, highlight=False)

        started = time.perf_counter()
        index, reused = cached_index(dataset, encoder, cache, chunk_size=chunk_size,
                                     hnsw_threshold=settings.hnsw_threshold, progress=progress)
        build_s = time.perf_counter() - started
        figures = evaluate_retrieval(
            dataset, index, legs=chosen, baseline=baseline, progress=progress,
            weights={"bm25": settings.weight_bm25, "dense": settings.weight_dense}, fusion_k=settings.fusion_k,
        )
    config = {"dataset": dataset.name, "files": [str(p) for p in dataset.files], "passages": len(dataset.passages),
              "queries": len(dataset.queries), "encoder": encoder.info.name, "chunk_size": chunk_size,
              "index": str(index.path), "index_reused": reused, "index_seconds": round(build_s, 1),
              "fusion_k": settings.fusion_k, "weights": {"bm25": settings.weight_bm25, "dense": settings.weight_dense},
              "notes": dataset.notes}
    output = output or Path("var/eval") / f"retrieval-{dataset.name}.json"
    md_path = write_retrieval_report(output, figures, config)
    table = Table(title=f"eval-retrieval {dataset.name}: {len(dataset.queries)} queries, {len(dataset.passages)} passages")
    table.add_column("figure")
    for run in figures:
        table.add_column("baseline (plain jieba+BM25)" if run == BASELINE else run, justify="right")
    for name in ["ndcg@10", "recall@1", "recall@5", "recall@10", "recall@100", "hit@1", "hit@5", "hit@10",
                 "mrr@10", "latency_p50_ms", "latency_p95_ms"]:
        table.add_row(name, *[f"{f[name]:.1f}" if name.endswith("_ms") else f"{f[name]:.3f}" for f in figures.values()])
    out.print(table)
    out.print(f"index: {index.path} ({'reused' if reused else f'built in {build_s:.0f} s'})")
    out.print(f"report: {output} and {md_path}")
