"""The `policyqa` command line: ingest, ask, serve, eval."""
from __future__ import annotations

import json
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
    from index.store import EncoderMismatchError, IndexNotFoundError

    from .answer.base import GeneratorConfigError
    from .api.schemas import AnswerOut
    from .qa import answer_question, load_pipeline

    settings = _settings(index, top_k=top_k)
    if not question.strip():
        _fail("the question is empty")
    try:
        pipeline = load_pipeline(settings, leg=leg)
    except (IndexNotFoundError, EncoderMismatchError, GeneratorConfigError) as exc:
        _fail(str(exc))
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
    questions: Annotated[Path, typer.Argument(help="Question file (JSONL), e.g. ../shared/eval/dev.jsonl.")],
    index: IndexOpt = None,
    output: Annotated[Path, typer.Option("--out", help="Where to write the JSON report.")] = Path("var/eval/report.json"),
    leg: Annotated[Optional[str], typer.Option(help="Retrieval leg: hybrid, bm25 or dense.")] = None,
    top_k: Annotated[Optional[int], typer.Option(help="Passages to retrieve.")] = None,
) -> None:
    """Score answer quality on a question file and write a JSON report."""
    from eval.run import QuestionFileError, load_questions, run_eval, write_report
    from index.store import EncoderMismatchError, IndexNotFoundError

    from .answer.base import GeneratorConfigError
    from .qa import answer_question, load_pipeline

    settings = _settings(index, top_k=top_k)
    try:
        qs = load_questions(questions)
    except (OSError, QuestionFileError) as exc:
        _fail(str(exc))
    try:
        pipeline = load_pipeline(settings, leg=leg)
    except (IndexNotFoundError, EncoderMismatchError, GeneratorConfigError) as exc:
        _fail(str(exc))
    started = time.perf_counter()
    with Progress(TextColumn("eval"), BarColumn(), MofNCompleteColumn(), console=err, transient=True,
                  disable=not err.is_terminal) as bar:
        task = bar.add_task("eval", total=len(qs))
        summary, results = run_eval(qs, lambda q: answer_question(pipeline, q),
                                    progress=lambda n: bar.advance(task, n))
    config = {"questions": str(questions), "leg": leg or settings.retrieval_leg, "top_k": settings.top_k,
              "encoder": pipeline.index.manifest.get("encoder"), "generator": pipeline.generator.name,
              "chunk_size": pipeline.index.manifest.get("chunker", {}), "seconds": round(time.perf_counter() - started, 2)}
    write_report(output, summary, results, config)
    table = Table(title=f"eval {questions.name} ({len(qs)} questions)")
    table.add_column("figure"), table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, "n/a" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value)))
    out.print(table)
    for r in results:
        mark = "✓" if (r.answered == r.answerable and (not r.answerable or (r.evidence_rank or 99) <= 5)) else "✗"
        out.print(f"{mark} {r.id} rank={r.evidence_rank} answered={r.answered} missed={r.key_points_missed}", markup=False)
    out.print(f"report: {output}")
