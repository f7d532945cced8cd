"""``$<< ... >>`` templating: namespaces, escaping, sandboxing, located errors, secret references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from etl.core.errors import SecretError, TemplateError
from etl.core.located_yaml import parse_located_yaml
from etl.core.profiles.model import LOCAL_MAX_PODS, Profile, StorageAccount
from etl.core.templating.render import TemplateContext, render_document
from etl.core.templating.secret_refs import find_secret_refs, resolve_secret_refs


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "ds"
    (folder / "code").mkdir(parents=True)
    (folder / "code" / "mod.py").write_text("")
    return folder


def context(dataset_dir: Path, **args: str) -> TemplateContext:
    profile = Profile.builtin_local()
    profile.argo.token = "tok-SECRET"
    profile.storage["acct"] = StorageAccount(account_url="https://acct.example", key="k-SECRET")
    return TemplateContext(
        args=args,
        declared_args=[*args, "missing-arg"],
        base_dir=dataset_dir,
        env={"HOME_REGION": "westeurope"},
        profile=profile,
    )


def render(yaml_text: str, ctx: TemplateContext) -> Any:
    return render_document(parse_located_yaml(yaml_text, ctx.base_dir / "dataset.yaml"), ctx)


def render_error(yaml_text: str, ctx: TemplateContext) -> str:
    with pytest.raises(TemplateError) as info:
        render(yaml_text, ctx)
    return str(info.value)


def test_args_with_hyphens_and_dict_method_names(dataset_dir: Path) -> None:
    names = {"storage-account": "acct1", "items": "I", "keys": "K", "values": "V", "get": "G"}
    ctx = context(dataset_dir, **names)
    out = render(
        "a: $<< args.storage-account >>\n"
        "b: $<< args.items >>-$<< args.keys >>-$<< args.values >>-$<< args.get >>\n",
        ctx,
    )
    assert out == {"a": "acct1", "b": "I-K-V-G"}


def test_several_expressions_and_whole_value_keeps_text(dataset_dir: Path) -> None:
    ctx = context(dataset_dir, code="007", region="eu")
    out = render(
        "id: $<< args.code >>\n"
        "uri: blob://$<< args.region >>/$<< args.code >>/$<< env.HOME_REGION >>\n"
        "list: [$<< args.code >>, plain, 3]\n",
        ctx,
    )
    assert out == {"id": "007", "uri": "blob://eu/007/westeurope", "list": ["007", "plain", 3]}


def test_substitution_cannot_inject_structure(dataset_dir: Path) -> None:
    ctx = context(dataset_dir, evil="x\nextra: injected")
    assert render("key: $<< args.evil >>\n", ctx) == {"key": "x\nextra: injected"}


def test_secrets_stay_canonical_references(dataset_dir: Path) -> None:
    out = render(
        "dsn: $<<secrets.pgstac-dsn>>\nurl: https://x?$<<  secrets.sas-token  >>\n",
        context(dataset_dir),
    )
    assert out == {"dsn": "$<< secrets.pgstac-dsn >>", "url": "https://x?$<< secrets.sas-token >>"}
    assert find_secret_refs(out["url"] + out["dsn"] + out["dsn"]) == ["sas-token", "pgstac-dsn"]


def test_resolve_secret_refs_replaces_each_reference() -> None:
    class Secrets:
        def get(self, name: str) -> str:
            if name == "pgstac-dsn":
                return "postgresql://u:p@h/db"
            raise SecretError(f"no secret {name!r}")

    assert (
        resolve_secret_refs("dsn=$<< secrets.pgstac-dsn >>;", Secrets())
        == "dsn=postgresql://u:p@h/db;"
    )
    with pytest.raises(SecretError, match="other"):
        resolve_secret_refs("$<< secrets.other >>", Secrets())


def test_escape_writes_a_literal_opener(dataset_dir: Path) -> None:
    out = render("a: 'cost $$<< args.x >> and $$5'\n", context(dataset_dir))
    assert out == {"a": "cost $<< args.x >> and $$5"}


def test_local_path_is_relative_to_the_dataset_file(dataset_dir: Path) -> None:
    out = render(
        "src: $<< local.path(./code) >>\nf: $<< local.path('code/mod.py') >>\n",
        context(dataset_dir),
    )
    assert out == {"src": str(dataset_dir / "code"), "f": str(dataset_dir / "code" / "mod.py")}


def test_local_path_must_exist(dataset_dir: Path) -> None:
    message = render_error("code:\n  src: $<< local.path(./nope) >>\n", context(dataset_dir))
    assert message.startswith(f"{dataset_dir / 'dataset.yaml'}:2:8: code.src: ")
    assert "does not exist" in message


def test_profile_values_and_refused_secret_fields(dataset_dir: Path) -> None:
    ctx = context(dataset_dir)
    out = render(
        "ns: $<< profile.argo.namespace >>\n"
        "pods: $<< profile.workflow.max_pods >>\n"
        "url: $<< profile.storage.acct.account_url >>/x\n",
        ctx,
    )
    assert out == {"ns": "argo", "pods": LOCAL_MAX_PODS, "url": "https://acct.example/x"}
    for secret in ("argo.token", "storage.acct.key", "pgstac.dsn"):
        message = render_error(f"v: $<< profile.{secret} >>\n", ctx)
        assert "is a secret" in message
        assert "SECRET" not in message
    assert "did you mean 'namespace'" in render_error("v: $<< profile.argo.namespce >>\n", ctx)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("args.nope", "undeclared argument 'nope'"),
        ("args.missing-arg", "is not given; pass -a missing-arg=VALUE"),
        ("vars.x", "unknown namespace 'vars'"),
        ("local.glob(*)", "unknown function"),
        ("env.NOT_SET_ANYWHERE", "environment variable NOT_SET_ANYWHERE is not set"),
        ("args.x + 1", "cannot read"),
        ("", "empty expression"),
    ],
)
def test_errors_are_located(dataset_dir: Path, expression: str, expected: str) -> None:
    message = render_error(
        f"collections:\n  - id: c\n    title: 'T $<< {expression} >>'\n", context(dataset_dir)
    )
    assert message.startswith(f"{dataset_dir / 'dataset.yaml'}:3:12: collections[0].title: ")
    assert expected in message


def test_unclosed_expression_is_an_error(dataset_dir: Path) -> None:
    assert "unclosed '$<<'" in render_error("a: $<< args.x\n", context(dataset_dir))


@pytest.mark.parametrize(
    "expression", ["''.__class__", "args.__class__", "local.path.__globals__", "env.__dict__"]
)
def test_sandbox_refuses_python_internals(dataset_dir: Path, expression: str) -> None:
    message = render_error(f"a: $<< {expression} >>\n", context(dataset_dir, x="1"))
    assert "cannot reach Python internals" in message


def test_keys_and_non_strings_are_untouched(dataset_dir: Path) -> None:
    out = render("$<< args.x >>: 1\nn: 2\nb: true\n", context(dataset_dir, x="1"))
    assert out == {"$<< args.x >>": 1, "n": 2, "b": True}
