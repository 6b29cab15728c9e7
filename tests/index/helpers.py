"""Small stand-ins for the ingest pipeline and a tiny corpus, so index tests do not depend on ingest's progress."""
from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

from ingest.normalize import normalize_text
from ingest.records import Chunk, Document, document_id

DATA = Path(__file__).resolve().parents[1] / "data" / "index"


class LocalIngestError(Exception):
    """Same shape as ingest.loaders.IngestError: `.source` and `.reason`."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def local_find_files(paths) -> list[Path]:
    """Files as given, *.txt found recursively in folders."""
    found = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise LocalIngestError(str(p), "no such file or directory")
        found.extend([p] if p.is_file() else sorted(p.rglob("*.txt")))
    return found


def local_file_hash(path) -> str:
    """sha256 of the file bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def local_load_document(path, max_bytes: int = 20_000_000) -> Document:
    """UTF-8 text file -> Document: first line is the title, a "日期：YYYY-MM-DD" line the date."""
    path = Path(path).resolve()
    data = path.read_bytes()
    if len(data) > max_bytes:
        raise LocalIngestError(path.name, f"larger than {max_bytes} bytes")
    if not data.strip():
        raise LocalIngestError(path.name, "empty file")
    text = normalize_text(data.decode("utf-8"))  # undecodable bytes raise UnicodeDecodeError on purpose
    date = re.search(r"日期：(\d{4}-\d{2}-\d{2})", text)
    return Document(
        id=document_id(str(path)),
        source=path.name,
        path=str(path),
        text=text,
        content_hash=hashlib.sha256(data).hexdigest(),
        title=text.splitlines()[0].strip(),
        date=date.group(1) if date else None,
    )


def local_chunk(doc: Document, max_chars: int = 300, overlap: int = 0) -> list[Chunk]:
    """Fixed-width chunks of `max_chars` characters, each starting `overlap` characters early."""
    chunks = []
    step = max(1, max_chars - overlap)
    for i, start in enumerate(range(0, len(doc.text), step)):
        end = min(len(doc.text), start + max_chars)
        chunks.append(Chunk(id=f"{doc.id}:{i}", doc_id=doc.id, text=doc.text[start:end], start=start, end=end))
        if end == len(doc.text):
            break
    return chunks


def corpus_documents() -> list[Document]:
    """The four test speeches with metadata filled in, as Documents."""
    meta = {
        "zhaoshang.txt": dict(kind="讲话", speaker="张伟"),
        "sijiang.txt": dict(kind="实施方案", speaker=None),
        "nongye.txt": dict(kind="讲话", speaker="李娜"),
        "zuofeng.txt": dict(kind="讲话", speaker="张伟"),
    }
    docs = []
    for name, extra in meta.items():
        doc = local_load_document(DATA / name)
        docs.append(dataclasses.replace(doc, **extra))
    return docs


# ------------------------------------------------------------------ tiny random models (built offline, never downloaded)

_TINY_CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行"
    "学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外"
    "天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情"
    "者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角"
    "期根论运农指几九区强放决西被干做必战先回则任取据处府研招商引项目营环境乡村振兴粮食亩税收讲比忠诚担当规矩净作风"
)


def _write_vocab(folder: Path) -> Path:
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += sorted(set(_TINY_CHARS)) + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab += [str(d) for d in range(10)] + ["query", "passage", ":", "，", "。", "？", "："]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "vocab.txt"
    path.write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    return path


def _tiny_config(vocab_size: int, **extra):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=256, **extra,
    )


def build_tiny_sentence_transformer(folder: Path) -> Path:
    """A randomly initialised 2-layer BERT with mean pooling, saved as a sentence-transformers folder."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertModel, BertTokenizerFast

    torch.manual_seed(0)
    hf = folder.parent / (folder.name + "-hf")
    vocab = _write_vocab(hf)
    tokenizer = BertTokenizerFast(vocab_file=str(vocab))
    BertModel(_tiny_config(tokenizer.vocab_size)).save_pretrained(hf)
    tokenizer.save_pretrained(hf)
    transformer = Transformer(str(hf), max_seq_length=128)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(folder))
    return folder


def build_tiny_cross_encoder(folder: Path) -> Path:
    """A randomly initialised 2-layer BERT with a one-logit head, saved as a cross-encoder folder."""
    import torch
    from transformers import BertForSequenceClassification, BertTokenizerFast

    torch.manual_seed(0)
    vocab = _write_vocab(folder)
    tokenizer = BertTokenizerFast(vocab_file=str(vocab))
    BertForSequenceClassification(_tiny_config(tokenizer.vocab_size, num_labels=1)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
