"""Why a team's action on a referral is refused before any lifecycle rule runs, and where a
referral's events live."""

from __future__ import annotations

import uuid

MANUAL_REROUTE = "handmatig-doorverwezen"
"""The rule id on a referral that a team placed by hand."""


def stream_of(referral_id: uuid.UUID) -> str:
    return f"referral-{referral_id}"


class ReferralNotFoundError(LookupError):
    """No referral has this id (HTTP 404)."""

    def __init__(self, referral_id: uuid.UUID) -> None:
        self.referral_id = referral_id
        super().__init__(f"referral {referral_id} does not exist")


class NotYourReferral(PermissionError):  # noqa: N818 -- the name issue 4's API uses
    """The referral is in another team's queue (HTTP 403). The message does not say which."""

    def __init__(self, referral_id: uuid.UUID, team: str) -> None:
        self.referral_id = referral_id
        self.team = team
        super().__init__(f"referral {referral_id} is not in the queue of team {team}")
