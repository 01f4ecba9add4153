"""Users, partner API keys and who a token belongs to (issue 6, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.access.principals import Credentials, Principal, Role
from services.access.tokens import owner_of, token_hash
from services.access.users import UserConfigError, UserRole, Users, load_users
from services.partners import load_partners
from services.referrals.teams import Teams

CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_a_token_is_matched_by_its_hash_only() -> None:
    hashes = [("a", token_hash("token-a")), ("b", token_hash("token-b"))]
    assert owner_of("token-b", hashes) == "b"
    assert owner_of("token-c", hashes) is None
    assert owner_of("", hashes) is None
    assert owner_of(token_hash("token-a"), hashes) is None  # the hash itself is no token


def test_credentials_tell_team_user_and_partner_apart() -> None:
    credentials = Credentials(
        Teams.from_tokens({"wijkteam-noord": "t" * 40}),
        Users.from_tokens(
            {
                "beleid-01": (UserRole.MANAGEMENT, "m" * 40),
                "fb-01": (UserRole.ADMINISTRATOR, "b" * 40),
            }
        ),
        load_partners(CONFIG).with_api_keys({"vitens": "p" * 40}),
    )
    assert credentials.identify("t" * 40) == Principal(Role.TEAM, "wijkteam-noord")
    assert credentials.identify("m" * 40) == Principal(Role.MANAGEMENT, "beleid-01")
    assert credentials.identify("b" * 40) == Principal(Role.ADMINISTRATOR, "fb-01")
    assert credentials.identify("p" * 40) == Principal(Role.PARTNER, "vitens")
    assert credentials.identify("x" * 40) is None
    assert Principal(Role.ADMINISTRATOR, "fb-01").actor == "beheerder:fb-01"


def test_the_shipped_configuration_has_a_manager_an_administrator_and_partner_keys() -> None:
    users = {user.id: user.role for user in load_users(CONFIG)}
    assert set(users.values()) == {UserRole.MANAGEMENT, UserRole.ADMINISTRATOR}
    assert all(p.api_key_sha256 for p in load_partners(CONFIG))


def test_a_users_file_error_names_file_user_and_field(tmp_path: Path) -> None:
    (tmp_path / "users.toml").write_text(
        '[[user]]\nid = "beleid-01"\nrole = "koning"\ntoken_sha256 = "abc"\n', encoding="utf-8"
    )
    with pytest.raises(UserConfigError) as raised:
        load_users(tmp_path)
    message = str(raised.value)
    for part in ("users.toml", "beleid-01", "role", "token_sha256"):
        assert part in message


def test_without_a_users_file_there_are_no_users(tmp_path: Path) -> None:
    assert list(load_users(tmp_path)) == []
