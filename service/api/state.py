"""What one running app holds: the loaded pipeline and the service's stores, built from settings."""
from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.store import IngestReport, PolicyIndexError, update_index

from ..answer.base import GeneratorConfigError
from ..auth import RateLimiter
from ..conversations import ConversationStore
from ..documents import DocumentJobs
from ..errors import NotReadyError
from ..feedback import FeedbackStore
from ..metrics import ServiceMetrics
from ..qa import Pipeline, build_encoder, load_pipeline, warm_up
from ..settings import Settings

log = logging.getLogger("policyqa.api")


class PipelineHolder:
    """Holds the loaded pipeline, or the reason it could not be loaded (served as 503); swapped on reload."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.pipeline: Pipeline | None = None
        self.error: str = "the index is not loaded yet"
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the index at start-up; keep the error message instead of crashing the server when it fails."""
        try:
            self.reload()
            if self.settings.warm_up:
                warm_up(self.pipeline)
        except (PolicyIndexError, GeneratorConfigError) as exc:
            self.pipeline, self.error = None, str(exc)
            log.error("index not ready: %s", exc)

    def reload(self) -> None:
        """Load the current index version (reusing the loaded encoder) and switch to it; raises on failure."""
        with self._lock:
            current = self.pipeline
            encoder = current.index.encoder if current is not None else None
            self.pipeline = load_pipeline(self.settings, encoder=encoder)
            self.error = ""

    def ready(self) -> Pipeline:
        """The loaded pipeline, or NotReadyError saying why there is none."""
        pipeline = self.pipeline
        if pipeline is None:
            raise NotReadyError(self.error)
        return pipeline

    def size(self) -> tuple[int, int]:
        """(documents, chunks) of the loaded index; (0, 0) when none is loaded."""
        pipeline = self.pipeline
        return (len(pipeline.index.documents), len(pipeline.index.chunks)) if pipeline else (0, 0)

    def update(self, paths: Sequence[Path], remove: Sequence[str]) -> IngestReport:
        """Add `paths` to / remove source keys from the index on disk (the caller reloads afterwards)."""
        pipeline = self.pipeline
        encoder = pipeline.index.encoder if pipeline is not None else build_encoder(self.settings)
        s = self.settings
        return update_index(s.index_dir, list(paths), encoder, chunk_size=s.chunk_size,
                            chunk_overlap=s.chunk_overlap, hnsw_threshold=s.hnsw_threshold, remove=list(remove))


@dataclass
class ServiceState:
    """Everything the routes share, one per app."""

    settings: Settings
    holder: PipelineHolder
    conversations: ConversationStore
    feedback: FeedbackStore
    jobs: DocumentJobs
    limiter: RateLimiter
    metrics: ServiceMetrics


def build_state(settings: Settings) -> ServiceState:
    """The state of a new app (nothing heavy is loaded here; the index loads at start-up)."""
    holder = PipelineHolder(settings)
    return ServiceState(
        settings=settings,
        holder=holder,
        conversations=ConversationStore(settings.max_conversations, settings.conversation_ttl_s,
                                        settings.conversation_turns),
        feedback=FeedbackStore(settings.feedback_db),
        jobs=DocumentJobs(settings.upload_dir, holder.update, holder.reload),
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
        metrics=ServiceMetrics(holder.size),
    )
