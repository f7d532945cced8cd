"""What ``etl dataset validate`` finds without running anything: collection classes that cannot be
imported (checked in one child process, with a timeout), and malformed template markers, which
every command that loads a dataset refuses.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from etl_cli import run_etl

from etl.core.templating.expressions import ExpressionError, check_markers

GOOD_CODE = """\
from etl.dataset import Collection


class Good(Collection):
    @classmethod
    def create_item(cls, asset_uri, storage):
        return None


class Plain:
    pass


print("the module prints while it is imported")
"""

WITH_CODE = """\
id: demo
code:
  src: {src}
collections:
  - id: demo
    class: {cls}
    asset_storage: []
"""
CLASS_AT = "6:12: collections[0].class"

WITH_URI = """\
id: demo
args: [container, x]
collections:
  - id: demo
    class: etl.dataset:PremadeItemCollection
    asset_storage:
      - uri: {uri}
"""
URI_AT = "7:14: collections[0].asset_storage[0].uri"


def _dataset(
    folder: Path,
    cls: str,
    code: str = GOOD_CODE,
    *,
    src: str = "$<< local.path(./demo_code.py) >>",
    extra: str = "",
) -> Path:
    (folder / "demo_code.py").write_text(code, encoding="utf-8")
    path = folder / "dataset.yaml"
    path.write_text(WITH_CODE.format(src=src, cls=cls) + extra, encoding="utf-8")
    return path


def _error_line(*args: str, env: dict[str, str] | None = None) -> str:
    """The one line ``etl ARGS`` prints on stderr, asserting it failed with exit code 2."""
    result = run_etl(*args, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    return line


def _validate_error(path: Path, env: dict[str, str] | None = None) -> str:
    return _error_line("dataset", "validate", "-d", str(path), env=env)


# --- collection classes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "code", "message"),
    [
        (
            "no_such_module:Collection",
            GOOD_CODE,
            "cannot import 'no_such_module:Collection': no module named 'no_such_module' in "
            "code.src ({folder}/demo_code.py) or in this Python environment",
        ),
        (
            "demo_code:Missing",
            GOOD_CODE,
            "cannot import 'demo_code:Missing': module 'demo_code' has no 'Missing'",
        ),
        (
            "demo_code:Plain",
            GOOD_CODE,
            "'demo_code:Plain' is not a subclass of etl.dataset.Collection",
        ),
        (
            "demo_code:Good",
            'raise RuntimeError("boom at import")\n',
            "importing 'demo_code' for 'demo_code:Good' failed: RuntimeError: boom at import",
        ),
    ],
)
def test_a_class_that_cannot_be_used_is_a_located_error(
    config_dir: Path, tmp_path: Path, cls: str, code: str, message: str
) -> None:
    path = _dataset(tmp_path, cls, code)
    expected = message.format(folder=tmp_path)
    assert _validate_error(path) == f"error: {path}:{CLASS_AT}: {expected}"


def test_a_usable_class_validates_and_its_output_stays_out(
    config_dir: Path, tmp_path: Path
) -> None:
    path = _dataset(tmp_path, "demo_code:Good")
    result = run_etl("dataset", "validate", "-d", str(path))
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "ok: demo (1 collection)\n",
        "",
    )
    assert not (tmp_path / "__pycache__").exists()


def test_a_hanging_import_is_stopped_after_the_timeout(config_dir: Path, tmp_path: Path) -> None:
    path = _dataset(tmp_path, "demo_code:Good", "import time\n\ntime.sleep(600)\n")
    started = time.monotonic()
    line = _validate_error(path, env={"ETL_IMPORT_TIMEOUT": "1.5"})
    assert time.monotonic() - started < 30
    assert line == (
        f"error: {path}:{CLASS_AT}: importing 'demo_code' for 'demo_code:Good' took longer than "
        "1.5 s and was stopped (a module that hangs or does heavy work at import); allow more "
        "with --import-timeout SECONDS"
    )


def test_the_first_broken_class_in_the_file_is_reported(config_dir: Path, tmp_path: Path) -> None:
    second = "  - id: other\n    class: demo_code:Plain\n    asset_storage: []\n"
    path = _dataset(tmp_path, "demo_code:Good", extra=second)
    assert _validate_error(path) == (
        f"error: {path}:9:12: collections[1].class: 'demo_code:Plain' is not a subclass of "
        "etl.dataset.Collection"
    )
    only_first = run_etl("dataset", "validate", "-d", str(path), "-c", "demo")
    assert (only_first.returncode, only_first.stdout) == (0, "ok: demo (1 collection)\n")


def test_a_missing_requirement_is_a_warning_naming_it(config_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("not-installed-dep-xyz==1.0\n", encoding="utf-8")
    code = "import not_installed_dep_xyz\n" + GOOD_CODE
    extra = "  requirements: $<< local.path(./requirements.txt) >>\n"
    path = _dataset(tmp_path, "demo_code:Good", code)
    path.write_text(
        path.read_text(encoding="utf-8").replace("collections:\n", extra + "collections:\n", 1),
        encoding="utf-8",
    )
    result = run_etl("dataset", "validate", "-d", str(path))
    assert (result.returncode, result.stdout) == (0, "ok: demo (1 collection)\n"), result.stderr
    assert result.stderr.splitlines() == [
        f"{path}:7:12: collections[0].class: warning: not checked: 'demo_code' imports "
        "'not_installed_dep_xyz', which is not installed on this machine; the pods install "
        f"code.requirements ({tmp_path}/requirements.txt): install them here to check the class"
    ]


def test_a_missing_code_src_is_a_located_error(config_dir: Path, tmp_path: Path) -> None:
    path = _dataset(tmp_path, "demo_code:Good", src="./nowhere.py")
    assert _validate_error(path) == (
        f"error: {path}:3:8: code.src: {tmp_path}/nowhere.py does not exist; the collection "
        "classes are imported from it"
    )


def test_without_code_a_module_not_installed_here_comes_from_the_image(
    config_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "dataset.yaml"
    text = WITH_URI.format(uri="blob://acct/data/").replace(
        "etl.dataset:PremadeItemCollection", "image_only_module:Items"
    )
    path.write_text(text, encoding="utf-8")
    result = run_etl("dataset", "validate", "-d", str(path))
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "ok: demo (1 collection)\n",
        "",
    )
    path.write_text(
        text.replace("image_only_module:Items", "etl.dataset:NoSuchClass"), encoding="utf-8"
    )
    assert _validate_error(path) == (
        f"error: {path}:5:12: collections[0].class: cannot import 'etl.dataset:NoSuchClass': "
        "module 'etl.dataset' has no 'NoSuchClass'"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("-d", "datasets/sample-sidecars", "-a", "root=/tmp/etl-sample"),
        ("-d", "datasets/sentinel-2-l2a"),
    ],
)
def test_the_example_datasets_still_validate(config_dir: Path, args: tuple[str, ...]) -> None:
    result = run_etl("dataset", "validate", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")


# --- template markers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (
            "blob://acct/$< args.container >>/items",
            "'$< args.container >>' is not a template expression: write '$<< args.container >>'",
        ),
        (
            "blob://acct/${{ args.x }}/",
            "PCTasks template syntax '${{ ... }}': etl writes expressions as '$<< ... >>'",
        ),
        (
            "blob://acct/$<< args.container/",
            "unclosed '$<<': end the expression with '>>', or write '$$<<' for a literal '$<<'",
        ),
        (
            "blob://acct/<< args.container >>/",
            "stray '>>' after 'args.container', which no '$<<' opens: write "
            "'$<< args.container >>'",
        ),
    ],
)
def test_a_malformed_marker_is_a_located_error(
    config_dir: Path, tmp_path: Path, uri: str, message: str
) -> None:
    path = tmp_path / "dataset.yaml"
    path.write_text(WITH_URI.format(uri=uri), encoding="utf-8")
    assert _validate_error(path) == f"error: {path}:{URI_AT}: {message}"


def test_render_and_process_items_refuse_malformed_markers(
    config_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "dataset.yaml"
    path.write_text(WITH_URI.format(uri="blob://acct/$< args.container >>/"), encoding="utf-8")
    expected = _validate_error(path)
    assert expected.startswith(f"error: {path}:{URI_AT}: ")
    for command in ("render", "process-items"):
        assert _error_line("dataset", command, "-d", str(path), "-a", "container=c") == expected


def test_markers_in_ignored_keys_are_checked_too(config_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "dataset.yaml"
    text = WITH_URI.format(uri="blob://acct/data/").replace(
        "    asset_storage:\n", "    token: ${{ pc.get_token(acct, c) }}\n    asset_storage:\n"
    )
    path.write_text(text, encoding="utf-8")
    assert _validate_error(path) == (
        f"error: {path}:6:12: collections[0].token: PCTasks template syntax '${{{{ ... }}}}': "
        "etl writes expressions as '$<< ... >>'"
    )


@pytest.mark.parametrize(
    "text",
    [
        "cost $$<< args.x >> and $$5",
        "$<< args.a >>/$<< args.b >>",
        "a >> b",
        "$$<< a $<< args.b >>",
    ],
)
def test_well_formed_markers_and_plain_text_pass(text: str) -> None:
    check_markers(text)


@pytest.mark.parametrize(
    "text", ["x$<5", "$<< args.a $<< args.b >>", "$ << args.x >>", "local.path(./x) >>"]
)
def test_marker_typos_are_refused(text: str) -> None:
    with pytest.raises(ExpressionError):
        check_markers(text)
