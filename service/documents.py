"""Document management behind the API: uploads saved and indexed by a background job, removals, job status."""
from __future__ import annotations

import re
import secrets
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Literal

from index.store import IngestReport
from ingest.loaders import SUPPORTED_SUFFIXES

from .errors import BadRequestError, NotFoundError, PayloadTooLargeError

JobStatus = Literal["queued", "running", "done", "failed"]
RunUpdate = Callable[[Sequence[Path], Sequence[str]], IngestReport]
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")
_READ_BLOCK = 1 << 16


@dataclass
class Job:
    """One background index update and what came of it."""

    job_id: str
    kind: Literal["upload", "delete"]
    target: str  # file name uploaded, or document id removed
    status: JobStatus = "queued"
    detail: str | None = None
    report: dict | None = None
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))


def safe_file_name(name: str | None) -> str:
    """The upload's base name with path parts and unsafe characters removed; BadRequestError when unusable."""
    base = _UNSAFE.sub("_", Path((name or "").replace("\\", "/")).name).strip().lstrip(".")
    if not base:
        raise BadRequestError("the upload has no usable file name")
    if Path(base).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise BadRequestError(f"unsupported file type {Path(base).suffix or '(no suffix)'!r} of {base!r}: "
                              f"expected one of {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    return base


def save_upload(stream: BinaryIO, dest: Path, max_bytes: int) -> int:
    """Copy an upload to `dest` block by block, refusing (and removing) it past `max_bytes`; returns its size."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with dest.open("wb") as out:
            while block := stream.read(_READ_BLOCK):
                size += len(block)
                if size > max_bytes:
                    raise PayloadTooLargeError(f"the upload is larger than the limit of {max_bytes} bytes")
                out.write(block)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    if size == 0:
        dest.unlink(missing_ok=True)
        raise BadRequestError("the uploaded file is empty")
    return size


def report_summary(report: IngestReport) -> dict:
    """An ingest report for clients: file names only (server paths stay private)."""
    return {
        "indexed": [Path(k).name for k in report.indexed],
        "unchanged": [Path(k).name for k in report.unchanged],
        "removed": [Path(k).name for k in report.removed],
        "failed": [{"source": Path(s).name, "reason": r} for s, r in report.failed],
        "chunks_total": report.chunks_total,
        "seconds": round(report.seconds, 3),
    }


class DocumentJobs:
    """Runs index updates one at a time in a background thread and remembers the last `max_jobs` jobs.

    `run_update(paths, remove)` updates the index; `reload()` is called after a successful change so that the
    service answers from the new version.
    """

    def __init__(self, upload_dir: Path, run_update: RunUpdate, reload: Callable[[], None], max_jobs: int = 200):
        self.upload_dir = Path(upload_dir)
        self.run_update = run_update
        self.reload = reload
        self.max_jobs = max_jobs
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policyqa-index")

    def _new_job(self, kind: Literal["upload", "delete"], target: str) -> Job:
        job = Job("j_" + secrets.token_urlsafe(9), kind, target)
        with self._lock:
            self._jobs[job.job_id] = job
            while len(self._jobs) > self.max_jobs:
                self._jobs.popitem(last=False)
        return job

    def get(self, job_id: str) -> Job:
        """The job with this id, or NotFoundError."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no job with id {job_id!r}")
        return job

    def incoming_path(self, name: str) -> Path:
        """Where an upload is received before its job moves it into place."""
        return self.upload_dir / ".incoming" / f"{secrets.token_hex(6)}-{name}"

    def submit_upload(self, incoming: Path, name: str) -> Job:
        """Queue indexing of a received file under `upload_dir/name` (replacing an earlier upload of that name)."""
        job = self._new_job("upload", name)
        self._worker.submit(self._run_upload, job, incoming, self.upload_dir / name)
        return job

    def submit_delete(self, doc_id: str, key: str) -> Job:
        """Queue removal of the document stored under source key `key`."""
        job = self._new_job("delete", doc_id)
        self._worker.submit(self._run_delete, job, key)
        return job

    def _update(self, job: Job, paths: Sequence[Path], remove: Sequence[str]) -> bool:
        """Run the update and the reload, recording the outcome on the job; True when it succeeded."""
        job.status = "running"
        try:
            report = self.run_update(paths, remove)
        except Exception as exc:  # noqa: BLE001 - the job boundary: the reason goes to the client
            job.status, job.detail = "failed", f"{type(exc).__name__}: {exc}"
            return False
        job.report = report_summary(report)
        if report.failed:
            job.status = "failed"
            job.detail = "; ".join(f"{Path(s).name}: {r}" for s, r in report.failed)
            return False
        try:
            self.reload()
        except Exception as exc:  # noqa: BLE001
            job.status, job.detail = "failed", f"indexed, but reloading the index failed: {exc}"
            return False
        job.status = "done"
        job.detail = "unchanged" if report.unchanged and not report.indexed else None
        return True

    def _run_upload(self, job: Job, incoming: Path, final: Path) -> None:
        backup = final.with_name(f".{final.name}.{job.job_id}.bak")
        had_previous = final.exists()
        if had_previous:
            final.replace(backup)
        incoming.replace(final)
        if self._update(job, [final], []):
            backup.unlink(missing_ok=True)
        elif had_previous:  # the index still holds the previous version: keep the file that matches it
            backup.replace(final)
        else:
            final.unlink(missing_ok=True)

    def _run_delete(self, job: Job, key: str) -> None:
        if self._update(job, [], [key]):
            path = Path(key)
            if path.parent.resolve() == self.upload_dir.resolve():
                path.unlink(missing_ok=True)

    def close(self) -> None:
        """Finish queued jobs and stop the worker."""
        self._worker.shutdown(wait=True)
        shutil.rmtree(self.upload_dir / ".incoming", ignore_errors=True)
