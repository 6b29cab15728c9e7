"""Documents: list, read (cleaned text and chunk offsets), upload (indexed by a background job), delete."""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile

from index.store import PolicyIndex

from ...documents import safe_file_name, save_upload
from ...errors import BadRequestError, NotFoundError, PayloadTooLargeError
from ..deps import AdminOnly, PipelineDep, RateLimited, StateDep, UserOnly
from ..errors import ERROR_RESPONSES
from ..schemas import ChunkSpanOut, DocumentDetailOut, DocumentOut, JobAccepted, JobOut

router = APIRouter(tags=["documents"], responses=ERROR_RESPONSES)

MULTIPART_SLACK = 64 * 1024  # form boundaries and headers around the file itself
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "A .txt .md .html .htm .docx or .pdf document."}}}}}}}


def source_key(index: PolicyIndex, doc_id: str) -> str:
    """The index's source key of a document id, or NotFoundError."""
    for key, meta in index.manifest.get("documents", {}).items():
        if meta.get("doc_id") == doc_id:
            return key
    raise NotFoundError(f"no document with id {doc_id!r}")


@router.get("/api/documents", response_model=list[DocumentOut], dependencies=[UserOnly])
async def list_documents(pipeline: PipelineDep) -> list[DocumentOut]:
    """Every indexed document with its metadata, chunk count and ingestion time, newest first."""
    index = pipeline.index
    counts: dict[str, int] = {}
    for chunk in index.chunks:
        counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
    docs = [DocumentOut(id=d.id, source=d.source, title=d.title, date=d.date, speaker=d.speaker, kind=d.kind,
                        chunks=counts.get(d.id, 0), ingested_at=index.ingested_at(d.id))
            for d in index.documents.values()]
    return sorted(docs, key=lambda d: (d.date or "", d.source), reverse=True)


@router.get("/api/documents/{doc_id}", response_model=DocumentDetailOut, dependencies=[UserOnly])
async def get_document(doc_id: str, pipeline: PipelineDep) -> DocumentDetailOut:
    """One document with its cleaned text; citation start/end offsets index this text."""
    index = pipeline.index
    doc = index.documents.get(doc_id)
    if doc is None:
        raise NotFoundError(f"no document with id {doc_id!r}")
    spans = [ChunkSpanOut(id=c.id, start=c.start, end=c.end, section=" / ".join(c.section) or None)
             for c in index.chunks if c.doc_id == doc_id]
    return DocumentDetailOut(id=doc.id, source=doc.source, title=doc.title, date=doc.date, speaker=doc.speaker,
                             kind=doc.kind, ingested_at=index.ingested_at(doc.id), text=doc.text, chunks=spans)


@router.post("/api/documents", status_code=202, response_model=JobAccepted, openapi_extra=UPLOAD_BODY,
             dependencies=[RateLimited, AdminOnly])
async def upload_document(request: Request, state: StateDep) -> JobAccepted:
    """Upload a document (multipart field `file`); it is indexed in the background: poll GET /api/jobs/{id}."""
    limit = state.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:  # refuse before reading the body
        raise PayloadTooLargeError(f"the upload is larger than the limit of {limit} bytes")
    form = await request.form(max_files=1, max_fields=4)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequestError("send the document as the multipart form field `file`")
        name = safe_file_name(upload.filename)
        incoming = state.jobs.incoming_path(name)
        await asyncio.to_thread(save_upload, upload.file, incoming, limit)
    finally:
        await form.close()
    job = state.jobs.submit_upload(incoming, name)
    return JobAccepted(job_id=job.job_id, status=job.status)


@router.delete("/api/documents/{doc_id}", status_code=202, response_model=JobAccepted, dependencies=[AdminOnly])
async def delete_document(doc_id: str, state: StateDep, pipeline: PipelineDep) -> JobAccepted:
    """Remove a document from the index (in the background, like uploads)."""
    job = state.jobs.submit_delete(doc_id, source_key(pipeline.index, doc_id))
    return JobAccepted(job_id=job.job_id, status=job.status)


@router.get("/api/jobs/{job_id}", response_model=JobOut, dependencies=[AdminOnly])
async def get_job(job_id: str, state: StateDep) -> JobOut:
    """Status of an upload or delete job: queued, running, done or failed (with the reason in `detail`)."""
    job = state.jobs.get(job_id)
    return JobOut(job_id=job.job_id, status=job.status, kind=job.kind, target=job.target, detail=job.detail,
                  report=job.report, created_at=job.created_at)
