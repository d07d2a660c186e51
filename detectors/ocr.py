"""Screenshots to text, on the device: RapidOCR (PP-OCR models run by onnxruntime, shipped in
the rapidocr-onnxruntime wheel), its package and models verified against a pinned sha256
manifest (model_manifests/) before the first use, and loaded only when an image arrives
(the agent's idle memory stays small).

Tuned for screenshots of admin pages and tables on a 2-core laptop (bench/files.py):
- no angle classifier: screenshots are upright;
- text detection on a copy downscaled to DET_LONG_SIDE (a 1920x1080 screenshot at half
  scale: a quarter of the full image's detection time); its boxes are then tightened on the
  full-resolution pixels (ocr_layout.py) and recognition reads full-resolution crops, so
  as many emails and phone numbers are read as with detection at full scale;
- recognition at a height of 32 pixels instead of the model's 48, and without padding each
  crop to a 10:1 width (the library's default pads every short cell to 320 pixels): about a
  third of the default's recognition time, with the same emails and phones read (24 px or
  narrower crops lose most of them: the model needs ~2 steps of 8 px per character);
- recognition (~90 % of the time) is shared between up to two threads, one onnxruntime
  thread each on one session: the person waits for the verdict, and one session with two
  intra-op threads costs a quarter to a third more CPU for the same work; detection, one
  run on one image, uses as many intra-op threads; onnxruntime's threads sleep instead of
  spinning while idle;
- both models' activations and affine layers fused in memory before onnxruntime loads them
  (ocr_graph.py: the same weights and arithmetic; recognition ~42 -> ~32 us of CPU per
  column, detection ~0.14 -> ~0.10 s, the same text read);
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shadowmap.detectors.model import MANIFEST_DIR, ModelVerificationError, hash_tree

OCR_PACKAGE = "rapidocr_onnxruntime"
OCR_MANIFEST = MANIFEST_DIR / "rapidocr_onnxruntime-1.4.4.json"
MODEL_FILES = {"det": "models/ch_PP-OCRv4_det_infer.onnx", "rec": "models/ch_PP-OCRv4_rec_infer.onnx",
               "cls": "models/ch_ppocr_mobile_v2.0_cls_infer.onnx"}
MAX_PIXELS = 40_000_000         # a decompression bomb is refused before it is decoded
MAX_LONG_SIDE = 2560            # larger screenshots are downscaled before anything else
DET_LONG_SIDE = 960             # text detection sees a copy at most this long (never enlarged)
REC_HEIGHT = 32
REC_BATCH = 6
MIN_TEXT_SCORE = 0.5            # recognised text below this confidence is dropped
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


def _workers() -> int:
    """Recognition threads: up to two, one per core. Measured on the 2-core reference machine
    (bench/files.py): recognition of a 1920x1080 screenshot is ~2 s of CPU in one thread;
    two threads of one onnxruntime thread each take the same CPU in about half the wall time,
    one session with two intra-op threads takes a third more CPU."""
    return max(1, min(2, os.cpu_count() or 1))


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
    serialised: one image at a time uses the recognition threads it was given."""

    def __init__(self, manifest_path: Path = OCR_MANIFEST, threads: int | None = None,
                 idle_unload_s: float = IDLE_UNLOAD_S):
        self._manifest_path = manifest_path
        self._threads = threads or _workers()
        self._idle_unload_s = idle_unload_s
        self._engine: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._last_used = 0.0
        self._unload_timer: threading.Timer | None = None
        self._lock = threading.Lock()

    @property
    def threads(self) -> int:
        """Threads recognising text at once (each runs one onnxruntime thread)."""
        return self._threads

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def _session(self, model: Path, threads: int = 1) -> Any:
        """An onnxruntime session on the model with its activations fused (ocr_graph.py: the
        same weights and arithmetic, a quarter less CPU), whose idle threads sleep: by default
        they spin between operators, burning a shared laptop's CPU (and, under load, the
        OCR's own)."""
        # onnxruntime's classes as the pinned RapidOCR imports them (onnxruntime comes with it)
        from rapidocr_onnxruntime.utils.infer_engine import InferenceSession, SessionOptions

        from shadowmap.detectors.ocr_graph import fused_model
        options = SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return InferenceSession(fused_model(model), sess_options=options, providers=["CPUExecutionProvider"])

    def _load(self) -> Any:
        root = verify_ocr_package(self._manifest_path)
        from rapidocr_onnxruntime import RapidOCR  # heavy: only once an image arrives
        engine = RapidOCR(
            det_model_path=str(root / MODEL_FILES["det"]), rec_model_path=str(root / MODEL_FILES["rec"]),
            cls_model_path=str(root / MODEL_FILES["cls"]), use_cls=False,
            intra_op_num_threads=1, inter_op_num_threads=1,
            rec_img_shape=[3, REC_HEIGHT, REC_HEIGHT], rec_batch_num=REC_BATCH)
        # RapidOCR 1.4.4 (pinned by the manifest) exposes no session options: its two sessions
        # in use are swapped for ones on the same verified files that do not spin
        # detection is one run on one image: its operators use the recognition threads' cores
        # (0.157 -> 0.098 s of wall time for a 1920x1080 screenshot, 0.173 s of CPU); the
        # recognition's parallel work is split by crops instead, one thread per session run
        engine.text_det.infer.session = self._session(root / MODEL_FILES["det"], self._threads)
        engine.text_rec.session.session = self._session(root / MODEL_FILES["rec"])
        # the image given to text_det is downscaled here already (_detect): only its size is
        # rounded to a multiple of 32, never enlarged (the default enlarges to 736 px)
        engine.text_det.limit_type, engine.text_det.limit_side_len = "max", 1 << 30
        if self._threads > 1:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="ocr-rec")
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
                if self._pool is not None:
                    self._pool.shutdown(wait=False)
                    self._pool = None
                _give_memory_back()
                return
            delay = max(0.0, self._last_used + self._idle_unload_s - time.monotonic())
        self._arm(delay)

    def _arm(self, delay: float) -> None:
        timer = threading.Timer(delay, self._unload_when_idle)
        timer.daemon = True
        self._unload_timer = timer
        timer.start()

    def _detect(self, engine: Any, image: Any) -> tuple[list[Any], float]:
        """Text boxes (corners in ``image``'s pixels), found on a copy at most DET_LONG_SIDE long."""
        import cv2
        scale = min(1.0, DET_LONG_SIDE / max(image.shape[:2]))
        small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        boxes, _ = engine.text_det(small)
        if boxes is None or len(boxes) == 0:
            return [], scale
        return [box / scale for box in engine.sorted_boxes(boxes)], scale

    def _crops(self, engine: Any, image: Any, boxes: list[Any]) -> tuple[list[Any], list[Any]]:
        """Full-resolution crops, tightened to their ink (ocr_layout.py); a tilted box is cut
        out along its corners as the library does. Boxes without ink are dropped."""
        import cv2

        from shadowmap.detectors.ocr_layout import corners, is_upright, tighten  # numpy: with the OCR
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        kept, crops = [], []
        for box in boxes:
            if not is_upright(box):
                kept.append(box)
                crops.extend(engine.get_crop_img_list(image, [box.astype("float32")]))
                continue
            rect = tighten(gray, box)
            if rect is not None:
                x0, y0, x1, y1 = rect
                kept.append(corners(rect))
                crops.append(image[y0:y1, x0:x1])
        return kept, crops

    def _recognise(self, engine: Any, crops: list[Any]) -> list[tuple[str, float]]:
        """Text of each crop. Crops are batched by width as the library batches them (each
        batch is padded to its widest crop, which can change what is read), and the batches
        shared out between the recognition threads: the same batches, so the same text,
        whatever the number of threads."""
        order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / max(1, crops[i].shape[0]))
        batches = [order[k:k + REC_BATCH] for k in range(0, len(order), REC_BATCH)]

        def read_batches(share: list[list[int]]) -> list[tuple[list[int], list[tuple[str, float]]]]:
            return [(batch, engine.text_rec([crops[i] for i in batch], False)[0]) for batch in share]

        if self._pool is None or len(batches) < 2:
            done = read_batches(batches)
        else:
            futures = [self._pool.submit(read_batches, batches[k::self._threads]) for k in range(self._threads)]
            done = [item for future in futures for item in future.result()]
        texts: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        for batch, batch_texts in done:
            for i, text in zip(batch, batch_texts, strict=True):
                texts[i] = text
        return texts

    def read(self, data: bytes) -> OcrText:
        started = time.perf_counter()
        with self._lock:
            if self._engine is None:
                self._engine = self._load()
            engine = self._engine
            try:
                image, width, height, scale = self._decode(data)
                boxes, _ = self._detect(engine, image)
                boxes, crops = self._crops(engine, image, boxes)
                texts = self._recognise(engine, crops) if crops else []
            finally:
                self._last_used = time.monotonic()
                if self._unload_timer is None:
                    self._arm(self._idle_unload_s)
        from shadowmap.detectors.ocr_layout import lines
        found = lines(boxes, texts, MIN_TEXT_SCORE)
        if not found:
            return OcrText("", 0, len(boxes), width, height, scale, time.perf_counter() - started)
        return OcrText("\n".join(found) + "\n", len(found), len(boxes), width, height, scale,
                       time.perf_counter() - started)
