"""Loaders on real files written into tmp_path: every format, and every kind of bad input."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import random
import zipfile
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from ingestion.errors import ConfigError, LoadError
from ingestion.loaders import SUPPORTED_SUFFIXES, iter_files, load_document

PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def load_error(path: Path, fix_words: str, **kwargs) -> LoadError:
    """load_document must raise a LoadError naming the file, with a fix mentioning fix_words."""
    with pytest.raises(LoadError) as info:
        load_document(path, **kwargs)
    err = info.value
    assert str(path) in err.message, err.message
    assert err.fix and fix_words in err.fix, err.fix
    assert "\n" not in str(err)
    return err


def make_pdf(pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Handbook", level=0)
    document.add_paragraph("Welcome to the handbook.")
    document.add_heading("Leave", level=1)
    document.add_paragraph("Employees get 25 days of leave.")
    document.add_heading("Sick leave", level=2)
    document.add_paragraph("Report sickness before 9am.")
    document.add_paragraph("Call your manager", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Days", "Kind"), ("25", "annual")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_heading("Pay", level=1)
    document.add_paragraph("Salaries are paid monthly.")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# --- formats -------------------------------------------------------------------------------


def test_markdown_heading_paths_front_matter_and_code_fences(tmp_path):
    text = (
        "---\ntitle: The Guide\nauthor: me\n---\n"
        "Intro paragraph.\n\n"
        "# Guide\n\nGuide body.\n\n"
        "## Install\n\nRun pip.\n\n```bash\n# not a heading\npip install ragft\n```\n\n"
        "### Linux\n\nUse apt.\n\n"
        "## Usage *fast*\n\nCall it.\n\n"
        "Setext Title\n============\n\nUnder setext.\n\n"
        '## <a name="faq"></a>FAQ `ragft`\n\nAsk.\n'
    )
    doc = load_document(write(tmp_path, "guide.md", text))
    paths = [s.heading_path for s in doc.sections]
    assert paths == [(), ("Guide",), ("Guide", "Install"), ("Guide", "Install", "Linux"),
                     ("Guide", "Usage fast"), ("Setext Title",), ("Setext Title", "FAQ ragft")]
    install = doc.sections[2].text
    assert install.splitlines()[0] == "Install"
    assert "# not a heading" in install and "pip install ragft" in install
    assert "#" not in install.splitlines()[0]
    assert doc.sections[0].text == "Intro paragraph."
    assert "author: me" not in doc.text and "---" not in doc.text
    assert doc.metadata["title"] == "The Guide"
    assert doc.kind == "md" and not doc.atomic_sections


def test_markdown_suffix_is_normalised_and_identity_fields(tmp_path):
    data = "# Title\n\nBody text.\n".encode()
    path = write(tmp_path, "sub/Notes.MARKDOWN", data)
    doc = load_document(path)
    assert doc.kind == "md"
    assert doc.source == str(path.resolve())
    assert doc.content_hash == hashlib.sha256(data).hexdigest()


def test_rst_sections_by_underline_and_overline(tmp_path):
    text = (
        "=======\nManual\n=======\n\nPreface text.\n\n"
        "Setup\n-----\n\nInstall it.\n\n"
        "Linux\n~~~~~\n\nUse apt.\n\n"
        "----\n\n"  # a transition, not a heading
        "Usage\n-----\n\nRun it.\n"
    )
    doc = load_document(write(tmp_path, "manual.rst", text))
    assert [s.heading_path for s in doc.sections] == [
        ("Manual",), ("Manual", "Setup"), ("Manual", "Setup", "Linux"), ("Manual", "Usage")]
    assert doc.sections[2].text.startswith("Linux\n")
    assert "~~~~~" not in doc.text and "=======" not in doc.text
    assert doc.kind == "rst"


def test_plain_text_is_one_section(tmp_path):
    doc = load_document(write(tmp_path, "a.txt", "First paragraph.\r\n\r\nSecond paragraph.\r\n"))
    assert len(doc.sections) == 1
    assert doc.sections[0].text == "First paragraph.\n\nSecond paragraph."
    assert doc.kind == "txt"


def test_html_drops_chrome_and_keeps_structure(tmp_path):
    html = """<!doctype html><html><head><title>Widget Docs</title>
    <style>body {color: red}</style><script>var tracking = 1;</script></head>
    <body><header><a href="/">Home</a> SiteHeader</header>
    <nav><ul><li>NavLink One</li><li>NavLink Two</li></ul></nav>
    <p>Preamble text before any heading.</p>
    <main><h1>Widgets</h1><p>Widgets are <b>great</b> and
    cheap.</p>
    <h2>Sizes</h2>
    <table><tr><th>Size</th><th>Price</th></tr><tr><td>Small</td><td>3 EUR</td></tr></table>
    <h3>Notes</h3><ul><li>Fragile<ul><li>Handle with care</li></ul></li><li>Blue</li></ul>
    <ol><li>Unpack</li><li>Assemble</li></ol>
    <h2>Care</h2><p>Wipe clean.<br>Dry well.</p></main>
    <aside>Related posts</aside><form>Subscribe</form>
    <footer>Copyright FooterText</footer><!-- a comment --></body></html>"""
    doc = load_document(write(tmp_path, "page.htm", html))
    assert doc.kind == "html"
    assert [s.heading_path for s in doc.sections] == [
        ("Widget Docs",), ("Widgets",), ("Widgets", "Sizes"), ("Widgets", "Sizes", "Notes"),
        ("Widgets", "Care")]
    text = doc.text
    for gone in ("tracking", "color: red", "NavLink", "SiteHeader", "FooterText",
                 "Related posts", "Subscribe", "a comment"):
        assert gone not in text
    assert doc.sections[0].text == "Widget Docs\n\nPreamble text before any heading."
    assert "Widgets are great and cheap." in doc.sections[1].text
    assert "Size | Price\nSmall | 3 EUR" in doc.sections[2].text
    notes = doc.sections[3].text
    assert "- Fragile\n  - Handle with care\n- Blue" in notes
    assert "1. Unpack\n2. Assemble" in notes
    assert "Wipe clean.\nDry well." in doc.sections[4].text
    assert doc.metadata["title"] == "Widget Docs"


def test_html_meta_charset_is_honoured(tmp_path):
    html = '<html><head><meta charset="windows-1252"></head><body><p>Caf\xe9 \u2013 cr\xe8me</p></body></html>'
    doc = load_document(write(tmp_path, "legacy.html", html.encode("cp1252")))
    assert "Café – crème" in doc.text


def test_html_with_only_chrome_has_no_text(tmp_path):
    path = write(tmp_path, "chrome.html", "<html><body><nav>Menu</nav><script>x()</script></body></html>")
    err = load_error(path, "add content")
    assert "no text" in err.message


def test_pdf_one_section_per_page(tmp_path):
    path = write(tmp_path, "report.pdf", make_pdf(["Alpha page talks about apples.",
                                                   "Beta page talks about bananas.",
                                                   "Gamma page talks about cherries."]))
    doc = load_document(path)
    assert doc.kind == "pdf"
    assert [s.page for s in doc.sections] == [1, 2, 3]
    assert "bananas" in doc.sections[1].text and "apples" not in doc.sections[1].text
    assert doc.metadata["pages"] == "3"


def test_pdf_page_without_text_is_skipped_but_numbering_kept(tmp_path):
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Only the second page has words.")
    doc = load_document(write(tmp_path, "mixed.pdf", bytes(pdf.output())))
    assert [s.page for s in doc.sections] == [2]


def test_pdf_recoverable_damage_is_read_quietly(tmp_path, caplog, capsys):
    data = make_pdf(["Damaged but readable."])
    offset = data.rindex(b"startxref") + len(b"startxref\n")
    end = data.index(b"\n", offset)
    bad = data[:offset] + str(int(data[offset:end]) + 7).encode() + data[end:]  # wrong xref pointer
    logger = logging.getLogger("pypdf")
    before = logger.level
    with caplog.at_level(logging.DEBUG):
        doc = load_document(write(tmp_path, "bad-xref.pdf", bad))
    assert "Damaged but readable." in doc.text
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert capsys.readouterr().err == ""
    assert logger.level == before
    with caplog.at_level(logging.WARNING):  # outside load_document pypdf logs as usual
        PdfReader(io.BytesIO(bad)).pages[0].extract_text()
    assert any(r.name.startswith("pypdf") for r in caplog.records)


def test_docx_headings_lists_and_tables(tmp_path):
    doc = load_document(write(tmp_path, "handbook.docx", make_docx()))
    assert doc.kind == "docx"
    assert [s.heading_path for s in doc.sections] == [
        ("Handbook",), ("Handbook", "Leave"), ("Handbook", "Leave", "Sick leave"),
        ("Handbook", "Pay")]
    sick = doc.sections[2].text
    assert sick.startswith("Sick leave\n")
    assert "- Call your manager" in sick
    assert "Days | Kind\n25 | annual" in sick
    assert "Salaries are paid monthly." in doc.sections[3].text


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_one_section_per_row_any_delimiter(tmp_path, delimiter):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerows([["name", "city", "note"], ["Ada", "London", ""],
                      ["Linus", "Helsinki", "line one\nline two"], ["", "", ""], ["Grace", "", "navy"]])
    doc = load_document(write(tmp_path, "people.csv", buf.getvalue()))
    assert doc.kind == "csv" and doc.atomic_sections
    assert [s.text for s in doc.sections] == [
        "name: Ada; city: London",
        "name: Linus; city: Helsinki; note: line one\nline two",
        "name: Grace; note: navy",
    ]
    assert doc.metadata["delimiter"] == delimiter


def test_jsonl_one_section_per_line(tmp_path):
    lines = ['{"q": "What is RAG?", "a": "Retrieval", "tags": ["x", "y"], "meta": {"n": 1}}',
             "", "   ", '{"q": "Second", "score": 0.5, "ok": true, "none": null, "empty": ""}',
             '"just a string"']
    doc = load_document(write(tmp_path, "qa.jsonl", "\n".join(lines) + "\n"))
    assert doc.kind == "jsonl" and doc.atomic_sections
    assert [s.text for s in doc.sections] == [
        'q: What is RAG?\na: Retrieval\ntags: ["x","y"]\nmeta: {"n":1}',
        "q: Second\nscore: 0.5\nok: true",
        "just a string",
    ]


def test_utf8_and_utf16_boms(tmp_path):
    text = "# Überschrift\n\nGrüße aus Köln.\n"
    for name, data in [("bom8.md", b"\xef\xbb\xbf" + text.encode()),
                       ("le16.md", text.encode("utf-16")),  # with BOM
                       ("be16.md", b"\xfe\xff" + text.encode("utf-16-be"))]:
        doc = load_document(write(tmp_path, name, data))
        assert doc.sections[0].heading_path == ("Überschrift",), name
        assert "Grüße aus Köln." in doc.text, name
        assert "\ufeff" not in doc.text


def test_latin1_text_is_decoded_correctly(tmp_path):
    text = "Le café est très bon. Voilà une phrase en français: élève, garçon, naïve, à bientôt.\n"
    doc = load_document(write(tmp_path, "fr.txt", text.encode("latin-1")))
    assert doc.text == text.strip()


def test_cp1251_russian_text_is_decoded_correctly(tmp_path):
    text = ("Привет, мир! Это простой текст на русском языке для проверки кодировки. "
            "Документы хранятся в индексе и обновляются при изменении.\n")
    doc = load_document(write(tmp_path, "ru.txt", text.encode("cp1251")))
    assert doc.text == text.strip()


# --- bad input ----------------------------------------------------------------------------


def test_empty_file(tmp_path):
    err = load_error(write(tmp_path, "empty.md", b""), "add content")
    assert "empty (0 bytes)" in err.message


def test_whitespace_only_file(tmp_path):
    err = load_error(write(tmp_path, "blank.txt", "  \n\t\n   \n"), "add content")
    assert "only whitespace" in err.message


def test_png_renamed_to_md(tmp_path):
    err = load_error(write(tmp_path, "image.md", PNG_BYTES), "real extension")
    assert "PNG image" in err.message


def test_nul_bytes_in_text(tmp_path):
    err = load_error(write(tmp_path, "bin.txt", b"hello world\x00\x01\x02 more"), "real extension")
    assert "NUL byte at offset 11" in err.message


def test_undecodable_random_high_bytes(tmp_path):
    rng = random.Random(7)
    data = bytes(rng.randint(0x80, 0xFF) for _ in range(400))
    with pytest.raises(UnicodeDecodeError) as utf8:
        data.decode("utf-8")
    err = load_error(write(tmp_path, "noise.txt", data), "re-save it as UTF-8")
    assert f"not valid text (undecodable bytes at offset {utf8.value.start})" in err.message


def test_ascii_with_garbage_bytes_is_not_mojibaked(tmp_path):
    data = b"plain words here and there " + b"\xff\xfe\x80\x9a\xfd" + b" and more words"
    err = load_error(write(tmp_path, "mixed.md", data), "re-save it as UTF-8")
    assert "offset 27" in err.message


def test_utf8_with_a_stray_cp1252_byte_is_not_mojibaked(tmp_path):
    # Read as cp1252 this would be plausible-looking mojibake: "Le cafÃ© a Ã©tÃ© servi ’ ..."
    data = "Le café a été servi".encode() + b" \x92 " + "avec du lait.".encode()
    err = load_error(write(tmp_path, "mixed.txt", data), "re-save it as UTF-8")
    assert "offset 23" in err.message


def test_over_size_limit(tmp_path):
    path = write(tmp_path, "big.txt", "x" * 100)
    err = load_error(path, "--max-file-mb", max_bytes=10)
    assert "100 bytes" in err.message and "10 bytes limit" in err.message


def test_huge_sparse_file_is_refused_from_its_size(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(1024 ** 3)  # 1 GiB of holes: reading it would cost a gigabyte
    err = load_error(path, "split the file")
    assert "1024.0 MB" in err.message and "20.0 MB limit" in err.message


def test_invalid_max_bytes_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="max_bytes"):
        load_document(write(tmp_path, "a.txt", "hi"), max_bytes=0)


def test_missing_file(tmp_path):
    err = load_error(tmp_path / "nope.md", "check the path")
    assert "does not exist" in err.message


def test_directory_instead_of_file(tmp_path):
    folder = tmp_path / "folder.md"
    folder.mkdir()
    err = load_error(folder, "ingest the folder")
    assert "is a folder" in err.message


def test_broken_symlink(tmp_path):
    link = tmp_path / "dangling.md"
    link.symlink_to(tmp_path / "gone.md")
    err = load_error(link, "fix or remove the link")
    assert "broken symlink" in err.message and "gone.md" in err.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_permission_denied(tmp_path):
    path = write(tmp_path, "secret.md", "# hi\n")
    path.chmod(0)
    err = load_error(path, "readable")
    assert "permission denied" in err.message


@pytest.mark.parametrize("name", ["sheet.xlsx", "Makefile"])
def test_unsupported_suffix(tmp_path, name):
    err = load_error(write(tmp_path, name, "data"), ".md")
    assert "unsupported file type" in err.message


def test_truncated_pdf(tmp_path):
    data = make_pdf(["Some text on page one.", "More text on page two."])
    err = load_error(write(tmp_path, "cut.pdf", data[: len(data) // 2]), "re-export")
    assert "truncated" in err.message


def test_pdf_without_text(tmp_path):
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 80, 40)
    err = load_error(write(tmp_path, "scan.pdf", bytes(pdf.output())), "OCR")
    assert "no extractable text" in err.message


def test_encrypted_pdf(tmp_path):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Top secret words."]))))
    writer.encrypt(user_password="hunter2", owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    err = load_error(write(tmp_path, "locked.pdf", buf.getvalue()), "qpdf --decrypt")
    assert "password-protected" in err.message


def test_text_file_named_pdf(tmp_path):
    err = load_error(write(tmp_path, "fake.pdf", "just some text\n"), "file type")
    assert "no %PDF header" in err.message


def test_pdf_with_broken_body(tmp_path):
    data = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    err = load_error(write(tmp_path, "broken.pdf", data), "re-export")
    assert "corrupt PDF" in err.message


@pytest.mark.parametrize("kind", ["not_zip", "truncated", "zip_without_word", "legacy_doc"])
def test_corrupt_docx(tmp_path, kind):
    real = make_docx()
    if kind == "not_zip":
        data = b"this is not a word document at all"
    elif kind == "truncated":
        data = real[: len(real) // 2]
    elif kind == "zip_without_word":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr("hello.txt", "hi")
        data = buf.getvalue()
    else:
        data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    err = load_error(write(tmp_path, f"{kind}.docx", data), "save it again as .docx")
    assert "not a valid .docx" in err.message
    if kind == "legacy_doc":
        assert "legacy Office" in err.message


def test_invalid_jsonl_line_is_named(tmp_path):
    path = write(tmp_path, "bad.jsonl", '{"a": 1}\n\n{"b": 2,}\n{"c": 3}\n')
    err = load_error(path, "fix or remove that line")
    assert "line 3 is not valid JSON" in err.message


def test_csv_with_only_a_header(tmp_path):
    err = load_error(write(tmp_path, "head.csv", "a,b,c\n"), "add rows")
    assert "no data rows" in err.message


def test_unexpected_parser_error_is_wrapped(tmp_path):
    # A field beyond the csv module's limit makes the stdlib parser itself raise.
    path = write(tmp_path, "wide.csv", "a,b\n" + "x" * 200_000 + ",1\n")
    err = load_error(path, "valid .csv file")
    assert err.message.startswith(f"could not parse {path}: Error: field larger than field limit")
    assert isinstance(err.__cause__, csv.Error)


# --- folders ------------------------------------------------------------------------------


def test_iter_files_sorted_recursive_and_filtered(tmp_path):
    for name in ["b.md", "a.TXT", "sub/c.pdf", "sub/deeper/d.csv", "sub/skip.xlsx", ".hidden.md",
                 ".git/config.md", "sub/.cache/e.md", "z.jsonl", "A.html"]:
        write(tmp_path, name, "x")
    got = [p.relative_to(tmp_path).as_posix() for p in iter_files(tmp_path)]
    assert got == ["A.html", "a.TXT", "b.md", "sub/c.pdf", "sub/deeper/d.csv", "z.jsonl"]


def test_iter_files_on_a_missing_folder(tmp_path):
    with pytest.raises(LoadError, match="is not a folder"):
        list(iter_files(tmp_path / "missing"))


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES == {".md", ".markdown", ".txt", ".rst", ".html", ".htm", ".pdf",
                                  ".docx", ".csv", ".jsonl"}
