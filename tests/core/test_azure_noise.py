"""An Azure AD identity that cannot get a token is one line everywhere, and fails without retries.

``DefaultAzureCredential`` explains a failure in a dozen lines (each credential it tried, links to
troubleshooting guides) and the storage SDK retried it like a dropped connection: six blocks over
about a minute per pod attempt, in the command's output, ``etl workflow logs`` and the run record.
Now it is one line that names what was tried and what to do; ``etl-task -v`` shows the SDK's
block, as ``etl -v`` does for the command's own errors.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError
from etl_cli import ETL, run_etl

from etl.core.azure_identity import IdentityCredential
from etl.core.log_setup import configure_logging

ROOT = Path(__file__).resolve().parents[2]
SDK_BLOCK = "Attempted credentials"
ONE_LINE = "no Azure AD credential worked (tried Environment, WorkloadIdentity, ManagedIdentity"
ACCOUNT = "blob://nosuchaccountetl"
ACCOUNT_WITHOUT_CREDENTIAL = f"{ACCOUNT}/container"


def run_etl_task(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ETL.with_name("etl-task")), *args], env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture
def env(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No Azure AD credential can work here: nothing in the environment, no `az` login."""
    for name in list(os.environ):
        if name.startswith(("AZURE_", "IDENTITY_", "MSI_")):
            monkeypatch.delenv(name)
    return dict(os.environ, CI="true")


def submit_past_the_preflight(
    env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """Run the sample dataset on the account as a cluster would: ``--submit``'s preflight would
    stop it before any pod (it names the identity's failure too, with exit 2), so the manifest
    goes in as a file, its bundle uploaded."""
    rendered = run_etl("dataset", "process-items", "-d", "datasets/sample-sidecars",
                   "-a", f"root={ACCOUNT_WITHOUT_CREDENTIAL}", "--upload-bundle", env=env)  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    manifest = tmp_path / "workflow.yaml"
    manifest.write_text(rendered.stdout)
    return run_etl("workflow", "submit", str(manifest), "--wait", env=env)


def test_a_missing_identity_is_one_line_in_output_logs_and_record(
    env: dict[str, str], tmp_path: Path
) -> None:
    started = time.monotonic()
    result = submit_past_the_preflight(env, tmp_path)
    took = time.monotonic() - started

    assert result.returncode == 1
    assert ONE_LINE in result.stderr
    assert "az login" in result.stderr
    assert SDK_BLOCK not in result.stderr
    assert took < 30, "an authentication failure is not retried"
    name = result.stdout.strip().splitlines()[0]
    logs = run_etl("workflow", "logs", name, env=env)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.count(f"create-chunks: error: authentication failed for {ACCOUNT}") == 1
    assert ONE_LINE in logs.stdout
    assert SDK_BLOCK not in logs.stdout + logs.stderr
    record = (Path(env["ETL_STATE_DIR"]) / "runs" / name / "run.json").read_text()
    assert ONE_LINE in record
    assert SDK_BLOCK not in record


def test_etl_task_verbose_shows_the_sdk_chain(env: dict[str, str], tmp_path: Path) -> None:
    submit_past_the_preflight(env, tmp_path)
    (bundle,) = (Path(env["ETL_STATE_DIR"]) / "bundles").glob("sample-sidecars/*/dataset.json")
    args = ["create-chunks", "--dataset", bundle.as_uri(), "--collection", "sample-sidecars",
            "--run-id", "debug-1", "--outputs", str(tmp_path / "out")]  # fmt: skip

    quiet = run_etl_task(*args, env=env)
    verbose = run_etl_task("-v", *args, env=env)

    assert quiet.returncode == verbose.returncode == 2
    assert quiet.stderr.strip().splitlines() == [quiet.stderr.strip()]
    assert ONE_LINE in quiet.stderr
    assert SDK_BLOCK in verbose.stderr
    assert ONE_LINE in verbose.stderr.strip().splitlines()[-1]


class _NoCredential:
    def get_token(self, *scopes: str, **kwargs: object) -> object:
        raise ClientAuthenticationError(
            message="DefaultAzureCredential failed to retrieve a token from the included "
            "credentials.\nAttempted credentials:\n\tEnvironmentCredential: unavailable.\n"
            "\tAzureCliCredential: Azure CLI not found on path\nTo mitigate this issue, ..."
        )


def test_identity_failure_keeps_the_sdk_message_on_the_chain() -> None:
    with pytest.raises(ClientAuthenticationError) as raised:
        IdentityCredential(_NoCredential()).get_token("https://storage.azure.com/.default")  # type: ignore[arg-type]

    assert str(raised.value.message).startswith(
        "no Azure AD credential worked (tried Environment, AzureCli)"
    )
    assert SDK_BLOCK in str(raised.value.__cause__)


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root, azure = logging.getLogger(), logging.getLogger("azure")
    handlers, levels = list(root.handlers), (root.level, azure.level)
    yield
    root.handlers[:] = handlers
    root.setLevel(levels[0])
    azure.setLevel(levels[1])


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize(("verbose", "shown"), [(False, False), (True, True)])
def test_azure_warnings_only_when_verbose(verbose: bool, shown: bool) -> None:
    configure_logging(verbose=verbose)

    sdk_logger = logging.getLogger("azure.identity._credentials.chained")
    assert sdk_logger.isEnabledFor(logging.WARNING) is shown
    assert logging.getLogger("etl.pgstac.load").isEnabledFor(logging.WARNING)
