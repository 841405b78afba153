"""Tests of the OAuth tokens of the Tesla cloud client and of the claims they carry."""

import base64
import json
from typing import Any

import pytest

from custom_components.tesla_resilient.api import JwtClaims, MalformedResponse, Tokens


def _jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.signature"


def test_tokens_from_token_response_and_round_trip() -> None:
    """expires_in is relative to the injected now; as_dict/from_dict round-trip."""
    access = _jwt({"sub": "account-1", "exp": 1})
    tokens = Tokens.from_token_response(
        {
            "access_token": access,
            "refresh_token": "r1",
            "expires_in": 28800,
            "id_token": "x",
        },
        now=1000.0,
    )
    assert tokens.expires_at == 29800.0
    assert tokens.account_id() == "account-1"
    assert Tokens.from_dict(tokens.as_dict()) == tokens
    assert access not in repr(tokens)
    assert "r1" not in repr(tokens)


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"access_token": "a", "refresh_token": "r"},
        {"access_token": "a", "refresh_token": "r", "expires_in": "60"},
        {"access_token": "a", "refresh_token": "r", "expires_in": -1},
        {"access_token": "a", "refresh_token": "r", "expires_in": True},
        {"access_token": "", "refresh_token": "r", "expires_in": 60},
        {"access_token": "a", "refresh_token": None, "expires_in": 60},
    ],
)
def test_tokens_from_bad_token_response(body: Any) -> None:
    """Incomplete token responses are malformed."""
    with pytest.raises(MalformedResponse):
        Tokens.from_token_response(body, now=0.0)


@pytest.mark.parametrize(
    "data",
    [
        {},
        None,
        ["a", "r", 1.0],
        {"access_token": "a", "refresh_token": "r"},
        {"access_token": "a", "refresh_token": 1, "expires_at": 5},
    ],
)
def test_tokens_from_bad_dict(data: Any) -> None:
    """Corrupt stored tokens raise ValueError."""
    with pytest.raises(ValueError, match="incomplete"):
        Tokens.from_dict(data)


@pytest.mark.parametrize(
    "access_token",
    [
        "opaque",
        "a.b",
        "a.!!!.c",
        "a." + base64.urlsafe_b64encode(b"\xff\xfe").decode() + ".c",
        "a." + base64.urlsafe_b64encode(b"[1]").decode() + ".c",
        _jwt({"sub": 5}),
        _jwt({"iss": "x"}),
    ],
)
def test_tokens_account_id_tolerates_any_token(access_token: str) -> None:
    """A token that is not a JWT with a string sub has no account id."""
    assert Tokens(access_token, "r", 0.0).account_id() is None


def test_jwt_claims_subject_and_email() -> None:
    """Both claims come from one decoding; a missing or non-string claim is None."""
    claims = JwtClaims.decode(_jwt({"sub": "account-1", "email": "ada@example.com"}))
    assert claims == JwtClaims(subject="account-1", email="ada@example.com")
    assert "ada@example.com" not in repr(claims)
    assert JwtClaims.decode(_jwt({"sub": "account-1", "email": 5})).email is None
    assert JwtClaims.decode(_jwt({"email": ""})).email is None


@pytest.mark.parametrize(
    "token", [None, 7, "", "not-a-jwt", "a.!!!.c", ["a", "b", "c"]]
)
def test_jwt_claims_of_anything_else(token: Any) -> None:
    """Whatever is not a JWT has no claims, and decoding it never raises."""
    assert JwtClaims.decode(token) == JwtClaims(subject=None, email=None)
