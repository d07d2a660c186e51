"""Real files for the file and OCR tests, written by the same libraries the agent reads them
with (openpyxl, python-docx, python-pptx), a minimal valid PDF written by hand (pypdf reads
it), archives by zipfile and screenshots rendered by Pillow in the DejaVu font. No tests here."""
from __future__ import annotations

import io
import random
import zipfile

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FIRST = ["Maria", "James", "Aiko", "Lars", "Fatima", "Pedro", "Chloe", "Ivan", "Nora", "Omar"]
LAST = ["Garcia", "Smith", "Tanaka", "Berg", "Haddad", "Silva", "Martin", "Petrov", "Quinn", "Farah"]
DOMAINS = ["acme-mail.com", "example.org", "northwind.io", "contoso.net"]


def customer(i: int) -> tuple[str, str, str, str, str]:
    first, last = FIRST[i % 10], LAST[(i * 7) % 10]
    email = f"{first.lower()}.{last.lower()}{i}@{DOMAINS[i % 4]}"
    phone = f"(415) 555-{1000 + (i * 37) % 9000:04d}"
    return str(10_000 + i), f"{first} {last}", email, phone, f"{100 + i % 900} Market Street"


HEADER = ("Customer ID", "Name", "Email", "Phone", "Address")


def xlsx(rows: int, sheet: str = "Customers", extra_sheets: tuple[str, ...] = ("Notes",)) -> bytes:
    from openpyxl import Workbook
    workbook = Workbook(write_only=True)
    for title in extra_sheets:
        notes = workbook.create_sheet(title)
        notes.append(["Quarterly plan", "no personal data here"])
    sheet_ = workbook.create_sheet(sheet)
    sheet_.append(list(HEADER))
    for i in range(rows):
        sheet_.append(list(customer(i)))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def docx(paragraphs: list[str], table: list[tuple[str, ...]] = ()) -> bytes:
    from docx import Document
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pptx(slides: list[str], notes: str = "") -> bytes:
    from pptx import Presentation
    from pptx.util import Inches
    presentation = Presentation()
    for index, text in enumerate(slides):
        slide = presentation.slides.add_slide(presentation.slide_layouts[5])
        slide.shapes.title.text = f"Slide {index + 1}"
        box = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(6), Inches(2))
        box.text_frame.text = text
        if notes and index == len(slides) - 1:
            slide.notes_slide.notes_text_frame.text = notes
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF (one Helvetica font, one text stream per page), with its xref."""
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            ops.append(f"({_pdf_string(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
                       f"<< /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def zip_bomb(inflated_bytes: int) -> bytes:
    """One member of zeros: a few KB that inflate to ``inflated_bytes``."""
    out = io.BytesIO()
    with (zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
          archive.open("zeros.txt", "w", force_zip64=True) as member):
        chunk = b"0" * (1 << 20)
        for _ in range(inflated_bytes >> 20):
            member.write(chunk)
    return out.getvalue()


def screenshot(rows: int = 25, size: tuple[int, int] = (1920, 1080), font_px: int = 16,
               seed: int = 0) -> tuple[bytes, list[tuple[str, str, str, str, str]]]:
    """A PNG screenshot of an admin page's table of customer records, and the records."""
    random.seed(seed)
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, font_px)
    draw.rectangle((0, 0, size[0], 56), fill=(33, 37, 41))
    draw.text((24, 18), "Acme Admin  ›  Customers", font=font, fill="white")
    draw.rectangle((0, 56, 220, size[1]), fill=(245, 246, 248))
    for i, item in enumerate(("Dashboard", "Customers", "Orders", "Settings")):
        draw.text((24, 90 + 34 * i), item, font=font, fill=(60, 60, 60))
    columns = (250, 380, 600, 1000, 1260)
    top = 90
    for x, title in zip(columns, HEADER, strict=True):
        draw.text((x, top), title, font=font, fill="black")
    records = [customer(i + seed * 100) for i in range(rows)]
    for r, record in enumerate(records):
        y = top + 36 * (r + 1)
        if r % 2:
            draw.rectangle((230, y - 8, size[0] - 20, y + 26), fill=(248, 249, 250))
        for x, value in zip(columns, record, strict=True):
            draw.text((x, y), value, font=font, fill=(33, 33, 33))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue(), records
