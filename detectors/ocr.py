"""Screenshots to text, on the device: RapidOCR (PP-OCR models run by onnxruntime, shipped in
the rapidocr-onnxruntime wheel), its package and models verified against a pinned sha256
manifest (model_manifests/) before the first use, and loaded only when an image arrives
(the agent's idle memory stays small).

Tuned for screenshots of admin pages and tables on a 2-core laptop (bench/files.py):
- no angle classifier: screenshots are upright;
- detection on the full image (up to MAX_LONG_SIDE; larger ones, HiDPI captures, are
  downscaled first): a downscaled detection map gives loose boxes, and the recogniser then
  misreads emails and phone numbers;
- recognition at a height of 32 pixels instead of the model's 48, and without padding each
  crop to a 10:1 width (the library's default pads every short cell to 320 pixels): about a
  third of the default's recognition time, with the same emails and phones read;
- onnxruntime's threads sleep instead of spinning while idle, and use half the cores;
- boxes put back into lines by position, the cells of a row tab-separated, so the engine
  reads a table of records as a table.
"""
from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib.util
import io
import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shadowmap.detectors.model import MANIFEST_DIR, ModelVerificationError, hash_tree

OCR_PACKAGE = "rapidocr_onnxruntime"
OCR_MANIFEST = MANIFEST_DIR / "rapidocr_onnxruntime-1.4.4.json"
MODEL_FILES = {"det": "models/ch_PP-OCRv4_det_infer.onnx", "rec": "models/ch_PP-OCRv4_rec_infer.onnx",
               "cls": "models/ch_ppocr_mobile_v2.0_cls_infer.onnx"}
MAX_PIXELS = 40_000_000         # a decompression bomb is refused before it is decoded
MAX_LONG_SIDE = 2560            # larger screenshots are downscaled before detection
REC_HEIGHT = 32
REC_BATCH = 6
MIN_TEXT_SCORE = 0.5            # recognised text below this confidence is dropped
_ROW_OVERLAP = 0.5              # boxes whose centres are this close (in box heights) share a line
# the OCR (its sessions: hundreds of MB) is dropped after this long without an image, so the
# agent goes back to its idle memory; the next image loads it again (seconds)
IDLE_UNLOAD_S = 300.0


class ImageUnreadable(ValueError):
    """The bytes are not an image the OCR can decode, or one too large to decode."""


@dataclass(frozen=True)
class OcrText:
    text: str           # lines top to bottom, a row's cells tab-separated
    lines: int
    boxes: int
    width: int
    height: int
    scale: float        # 1.0, or the downscale applied before detection
    seconds: float


def package_dir() -> Path:
    """The installed OCR package's folder, found without importing it."""
    spec = importlib.util.find_spec(OCR_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelVerificationError(f"{OCR_PACKAGE} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def verify_ocr_package(manifest_path: Path = OCR_MANIFEST) -> Path:
    """Check every file of the OCR package (code, config and ONNX models) against the
    manifest; returns its folder. Raises ModelVerificationError on any difference."""
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelVerificationError(f"cannot read OCR manifest {manifest_path}: {exc}") from None
    expected = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(expected, dict) or not expected:
        raise ModelVerificationError(f"OCR manifest {manifest_path} has no 'files' table")
    root = package_dir()
    actual = hash_tree(root)
    for rel in sorted(set(expected) | set(actual)):
        if actual.get(rel) != expected.get(rel):
            state = "missing" if rel not in actual else "unexpected" if rel not in expected else "changed"
            raise ModelVerificationError(f"OCR file {state}: {rel} (in {root})")
    return root


def _threads() -> int:
    """Half the cores, at most two: the agent must not take a laptop over (on the 2-core
    reference machine under load one thread OCRs a screenshot in 3.1-3.5 s of CPU and
    11-13 s of wall time, two threads in 4.5 s of CPU and 20 s: bench/README.md)."""
    return max(1, min(2, (os.cpu_count() or 1) // 2))


def _lines(boxes: Any, texts: list[tuple[str, float]]) -> list[str]:
    """Recognised boxes back into lines: by vertical centre, then left to right."""
    items = []
    for box, (text, score) in zip(boxes, texts, strict=True):
        if not text.strip() or score < MIN_TEXT_SCORE:
            continue
        ys = [float(p[1]) for p in box]
        xs = [float(p[0]) for p in box]
        items.append(((min(ys) + max(ys)) / 2, max(ys) - min(ys), min(xs), text.strip()))
    items.sort()
    rows: list[list[tuple[float, str]]] = []
    centre = height = -1e9
    for y, h, x, text in items:
        if rows and abs(y - centre) <= _ROW_OVERLAP * max(h, height):
            rows[-1].append((x, text))
        else:
            rows.append([(x, text)])
            centre, height = y, h
    return ["\t".join(text for _, text in sorted(row)) for row in rows]


def _give_memory_back() -> None:
    """Return freed heap to the OS (glibc keeps it otherwise): measured, 207 -> 130 MB after
    the OCR of a 1920x1080 screenshot was dropped (569 MB while it was loaded)."""
    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):    # not glibc (musl): nothing to trim
            ctypes.CDLL("libc.so.6").malloc_trim(0)


class ScreenshotReader:
    """Reads text out of PNG/JPEG/WebP/BMP bytes. The OCR engine (and numpy, OpenCV and
    onnxruntime with it) is imported and verified on the first image only. Calls are
    serialised: one image at a time uses the threads it was given."""

    def __init__(self, manifest_path: Path = OCR_MANIFEST, threads: int | None = None,
                 idle_unload_s: float = IDLE_UNLOAD_S):
        self._manifest_path = manifest_path
        self._threads = threads or _threads()
        self._idle_unload_s = idle_unload_s
        self._engine: Any = None
        self._last_used = 0.0
        self._unload_timer: threading.Timer | None = None
        self._lock = threading.Lock()

    @property
    def threads(self) -> int:
        return self._threads

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def _session(self, model: Path) -> Any:
        """An onnxruntime session whose idle threads sleep: by default they spin between
        operators, burning a shared laptop's CPU (and, under load, the OCR's own)."""
        # onnxruntime's classes as the pinned RapidOCR imports them (onnxruntime comes with it)
        from rapidocr_onnxruntime.utils.infer_engine import InferenceSession, SessionOptions
        options = SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])

    def _load(self) -> Any:
        root = verify_ocr_package(self._manifest_path)
        from rapidocr_onnxruntime import RapidOCR  # heavy: only once an image arrives
        engine = RapidOCR(
            det_model_path=str(root / MODEL_FILES["det"]), rec_model_path=str(root / MODEL_FILES["rec"]),
            cls_model_path=str(root / MODEL_FILES["cls"]), use_cls=False,
            intra_op_num_threads=self._threads, inter_op_num_threads=1,
            rec_img_shape=[3, REC_HEIGHT, REC_HEIGHT], rec_batch_num=REC_BATCH)
        # RapidOCR 1.4.4 (pinned by the manifest) exposes no session options: its two sessions
        # in use are swapped for ones on the same verified files that do not spin
        engine.text_det.infer.session = self._session(root / MODEL_FILES["det"])
        engine.text_rec.session.session = self._session(root / MODEL_FILES["rec"])
        return engine

    def _decode(self, data: bytes) -> tuple[Any, int, int, float]:
        import cv2
        import numpy as np
        from PIL import Image
        try:
            with Image.open(io.BytesIO(data)) as probe:      # the header only: no pixels decoded yet
                width, height = probe.size
        except Exception as exc:     # Pillow raises many kinds of error on damaged images
            raise ImageUnreadable(f"not an image Pillow can open ({type(exc).__name__})") from None
        if width * height > MAX_PIXELS:
            raise ImageUnreadable(f"{width}x{height} is more than {MAX_PIXELS:,} pixels")
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ImageUnreadable("OpenCV cannot decode this image")
        scale = min(1.0, MAX_LONG_SIDE / max(width, height))
        if scale < 1.0:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return image, width, height, scale

    def _unload_when_idle(self) -> None:
        with self._lock:
            if self._engine is not None and time.monotonic() - self._last_used >= self._idle_unload_s:
                self._engine = None          # its sessions are freed with it
                self._unload_timer = None
                _give_memory_back()
                return
            delay = max(0.0, self._last_used + self._idle_unload_s - time.monotonic())
        self._arm(delay)

    def _arm(self, delay: float) -> None:
        timer = threading.Timer(delay, self._unload_when_idle)
        timer.daemon = True
        self._unload_timer = timer
        timer.start()

    def read(self, data: bytes) -> OcrText:
        started = time.perf_counter()
        with self._lock:
            if self._engine is None:
                self._engine = self._load()
            engine = self._engine
            try:
                image, width, height, scale = self._decode(data)
                boxes, _ = engine.text_det(image)
                if boxes is None or len(boxes) == 0:
                    return OcrText("", 0, 0, width, height, scale, time.perf_counter() - started)
                boxes = engine.sorted_boxes(boxes)
                crops = engine.get_crop_img_list(image, boxes)
                texts, _ = engine.text_rec(crops, False)
            finally:
                self._last_used = time.monotonic()
                if self._unload_timer is None:
                    self._arm(self._idle_unload_s)
        lines = _lines(boxes, texts)
        return OcrText("\n".join(lines) + "\n", len(lines), len(boxes), width, height, scale,
                       time.perf_counter() - started)
