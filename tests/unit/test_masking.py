"""Every credential the tool holds is masked in whatever it prints or writes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodeploy_netpol.masking import MASK, forget_secrets, holds_secret, mask, register_secret


@pytest.fixture(autouse=True)
def _fresh() -> None:
    forget_secrets()
    yield
    forget_secrets()


# Tokens as they come: printable, with quotes and backslashes (JSON-escaped in reports), with
# newlines (pasted badly into a CI variable or a kubeconfig).
TOKENS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=8, max_size=60
).filter(lambda token: len(token.strip()) >= 8 and all(len(line.strip()) >= 6 for line in token.splitlines() if line.strip()))


@given(token=TOKENS, before=st.text(max_size=30), after=st.text(max_size=30))
def test_a_registered_token_leaves_no_trace_in_any_form_it_is_printed(token: str, before: str, after: str) -> None:
    forget_secrets()
    register_secret(token)
    forms = [token, json.dumps(token)[1:-1], json.dumps(token, ensure_ascii=False)[1:-1], repr(token)[1:-1]]
    for form in forms:
        out = mask(f"{before}{form}{after}")
        assert form.strip() not in out or form.strip() in f"{before}{after}"
    for line in token.splitlines():
        if len(line.strip()) >= 6:
            assert line.strip() not in mask(f"{before}\n{line}\n{after}") or line.strip() in f"{before}{after}"


def test_mask_first_then_cut_keeps_no_prefix() -> None:
    token = "glpat-" + "x" * 40
    register_secret(token)
    message = "error page: " + "a" * 290 + token
    assert token[:8] not in mask(message)[:300]


def test_url_passwords_are_masked_without_registration() -> None:
    text = "cannot reach https://deploy:s3cr3t-pa55@gitlab.example.com/api/v4 and http://u:p%40ss@h:8080/"
    out = mask(text)
    assert "s3cr3t-pa55" not in out and "p%40ss" not in out
    assert f"https://deploy:{MASK}@gitlab.example.com/api/v4" in out


def test_short_and_empty_values_are_not_registered() -> None:
    register_secret("")
    register_secret(None)
    register_secret("   ")
    register_secret("t")  # a test kubeconfig's token: masking it would mask every "t"
    assert mask("plain text") == "plain text"


def test_bytes_and_holds_secret() -> None:
    register_secret(b"abcdefgh-key")
    assert holds_secret("xx abcdefgh-key yy")
    assert mask("xx abcdefgh-key yy") == f"xx {MASK} yy"


@pytest.mark.parametrize("split", [False, True])
def test_an_internal_error_is_masked_before_it_is_cut(capsys: pytest.CaptureFixture[str], split: bool) -> None:
    from autodeploy_netpol.cli.common import report_internal_error

    token = "glpat-" + "y" * 40
    register_secret(token)
    shown = token[:20] + "\n" + token[20:] if split else token  # printed over two lines by a library
    register_secret(shown)
    report_internal_error(RuntimeError("echoed: " + "b" * 285 + shown))
    err = capsys.readouterr().err
    assert err.startswith("internal error: RuntimeError: echoed:")
    assert "glp" not in err and "yyy" not in err
