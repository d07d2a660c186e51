"""Screenshots read on the device (shadowmap.detectors.ocr): the OCR package verified against
its pinned manifest before use and loaded only when an image arrives; a Pillow-rendered
admin page with a table of customers, read and scanned, gives its emails and phones."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import pytest
from PIL import Image
from support.file_samples import screenshot

from shadowmap.detectors.model import ModelVerificationError
from shadowmap.detectors.ocr import OCR_MANIFEST, ImageUnreadable, ScreenshotReader, verify_ocr_package


@pytest.fixture(scope="module")
def reader() -> ScreenshotReader:
    return ScreenshotReader()


@pytest.fixture(scope="module")
def table_shot(reader):
    png, records = screenshot(rows=25)
    return reader.read(png), records


def test_the_ocr_package_matches_its_manifest():
    root = verify_ocr_package()
    pinned = json.loads(OCR_MANIFEST.read_text())["files"]
    assert {"models/ch_PP-OCRv4_det_infer.onnx", "models/ch_PP-OCRv4_rec_infer.onnx"} <= set(pinned)
    assert (root / "models/ch_PP-OCRv4_rec_infer.onnx").is_file()


def test_a_model_that_differs_from_the_manifest_is_refused(tmp_path):
    manifest = json.loads(OCR_MANIFEST.read_text())
    manifest["files"]["models/ch_PP-OCRv4_rec_infer.onnx"] = "0" * 64
    tampered = tmp_path / "ocr.json"
    tampered.write_text(json.dumps(manifest))
    png, _ = screenshot(rows=2)
    with pytest.raises(ModelVerificationError, match="ch_PP-OCRv4_rec_infer.onnx"):
        ScreenshotReader(manifest_path=tampered).read(png)


def test_the_ocr_engine_is_not_loaded_until_an_image_arrives():
    probe = ("import sys\n"
             "from shadowmap.detectors.files.batch import FileScanner\n"
             "FileScanner()\n"
             "heavy = [m for m in ('rapidocr_onnxruntime', 'onnxruntime', 'cv2', 'numpy', 'openpyxl', 'pypdf')"
             " if m in sys.modules]\n"
             "print(','.join(heavy))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == ""


def test_a_screenshot_of_customer_records_gives_its_emails_and_phones(table_shot, engine):
    ocr, records = table_shot
    assert ocr.width == 1920 and ocr.height == 1080 and ocr.scale == 1.0
    findings = engine.scan(ocr.text)
    emails = [ocr.text[f.start:f.end] for f in findings if f.entity_type == "EMAIL_ADDRESS"]
    phones = [f for f in findings if f.entity_type == "PHONE_NUMBER"]
    planted = {record[2] for record in records}
    assert len(planted & set(emails)) >= 0.8 * len(records), ocr.text
    assert len(phones) >= 0.8 * len(records), ocr.text


def test_the_table_comes_back_as_lines_of_cells(table_shot):
    ocr, records = table_shot
    rows = [line.split("\t") for line in ocr.text.splitlines()]
    # a record's cells share a line, left to right: its id before its email
    in_order = [record for record in records
                if any(record[0] in row and record[2] in row and row.index(record[0]) < row.index(record[2])
                       for row in rows)]
    assert len(in_order) >= 0.7 * len(records), ocr.text


def test_a_screenshot_without_personal_data_gives_no_findings(reader, engine):
    image = Image.new("RGB", (800, 200), "white")
    from PIL import ImageDraw, ImageFont
    ImageDraw.Draw(image).text((20, 80), "Quarterly revenue grew 12 percent in region 4",
                               font=ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 20),
                               fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    ocr = reader.read(out.getvalue())
    assert "revenue" in ocr.text.lower()
    assert list(engine.scan(ocr.text)) == []


def test_the_ocr_is_dropped_when_idle_and_loaded_again_for_the_next_image():
    png, _ = screenshot(rows=1, size=(1280, 200))
    reader = ScreenshotReader(idle_unload_s=0.5)
    assert not reader.loaded
    assert "Customer" in reader.read(png).text
    assert reader.loaded
    deadline = time.monotonic() + 10
    while reader.loaded and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not reader.loaded, "the OCR was kept loaded while idle"
    assert "Customer" in reader.read(png).text


def test_an_image_bomb_and_a_damaged_image_are_refused(reader):
    big = io.BytesIO()
    Image.new("1", (8000, 6000)).save(big, "PNG")       # 48 Mpx in a small file
    with pytest.raises(ImageUnreadable, match="pixels"):
        reader.read(big.getvalue())
    png, _ = screenshot(rows=2)
    with pytest.raises(ImageUnreadable):
        reader.read(png[:200])


def test_recognition_shared_between_threads_reads_what_one_thread_reads(table_shot):
    """The crops are shared out between threads and their texts put back in order."""
    ocr, _records = table_shot
    png, _ = screenshot(rows=25)
    one = ScreenshotReader(threads=1)
    assert one.threads == 1
    assert one.read(png).text == ocr.text


def _session(model):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("which", ["rec", "det"])
def test_the_fused_models_compute_what_the_pinned_models_compute(which):
    """ocr_graph.py rewrites the verified models' activations and affine layers in memory:
    the same outputs but for float rounding, on a real screenshot's input."""
    import cv2
    import numpy as np

    from shadowmap.detectors.ocr import MODEL_FILES, package_dir
    from shadowmap.detectors.ocr_graph import fuse
    path = package_dir() / MODEL_FILES[which]
    fused, counts = fuse(path.read_bytes())
    # every activation of the PPLCNetV3 backbone, and the affine layers around them
    assert counts["hard_swish"] == {"rec": 28, "det": 24}[which]
    assert counts["affine_before"] == 28
    assert counts["affine_after_1x1"] + counts["affine_after_bn"] == {"rec": 28, "det": 24}[which]
    png, _ = screenshot(rows=25)
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR).astype(np.float32) / 127.5 - 1.0
    if which == "rec":       # a line of the table at the recogniser's 32 px
        x = cv2.resize(image[120:146, 240:1500], (1500, 32)).transpose(2, 0, 1)[None]
    else:
        x = cv2.resize(image, (960, 544)).transpose(2, 0, 1)[None]
    x = np.ascontiguousarray(x)
    pinned, ours = _session(str(path)).run(None, {"x": x})[0], _session(fused).run(None, {"x": x})[0]
    assert np.abs(pinned - ours).max() < 1e-4
    if which == "rec":
        assert (pinned.argmax(-1) == ours.argmax(-1)).all()
    else:
        assert ((pinned > 0.3) == (ours > 0.3)).all()


def test_the_model_graph_is_rewritten_field_for_field():
    """Decoding a node and encoding it again gives the same bytes (the wire-level protobuf
    reader keeps every field it does not change)."""
    from shadowmap.detectors.ocr import MODEL_FILES, package_dir
    from shadowmap.detectors.ocr_graph import _GRAPH_NODE, _MODEL_GRAPH, _Node
    from shadowmap.protowire import fields
    model = (package_dir() / MODEL_FILES["rec"]).read_bytes()
    graph = next(value for number, _, value, _, _ in fields(model) if number == _MODEL_GRAPH)
    nodes = [value for number, _, value, _, _ in fields(graph) if number == _GRAPH_NODE]
    assert len(nodes) > 800
    assert all(_Node.decode(node).encode() == node for node in nodes)
