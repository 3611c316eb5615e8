"""What happens to the offline TikTok's posts over time: some are removed, made private or blocked
in the region after they were posted, as real ones are. Deterministic from the world's seed.

A post's fate is ``(status, at)``: from ``at`` on, TikTok answers for it as it does for such posts:

* the item detail (``/api/item/detail/?itemId=``) gives no ``itemInfo`` but a ``statusCode``;
* the video page embeds ``webapp.video-detail`` with that ``statusCode`` and no ``itemInfo``;
* the post leaves its hashtags' feeds.

The codes are those TikTok's clients are seen handling: 10204 "item doesn't exist" (removed),
10216 (private: yt-dlp says "This video is private"), 10222 (an account only its followers may
see, also private); TikTok's code for a region block is not documented by any client we read, so
the offline one answers 10219 with the message TikTok shows ("not available in your region").

Fates are off unless the world is made with a ``fate_rate`` (the share of posts that meet one),
so the other offline tests keep their numbers; :meth:`Fates.set` gives one post a fate by hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import threading

#: status -> (statusCode, statusMsg), as TikTok answers for a post in that state.
ANSWERS: dict[str, tuple[int, str]] = {
    "removed": (10204, "item doesn't exist"),
    "private": (10216, "item is private"),
    "private_account": (10222, "this account is private"),
    "region_blocked": (10219, "this post is not available in your region"),
}
#: How often each fate comes, among the posts that meet one.
WEIGHTS = {"removed": 0.6, "private": 0.2, "private_account": 0.05, "region_blocked": 0.15}


@dataclasses.dataclass(frozen=True)
class Fate:
    status: str  # a key of ANSWERS
    at: dt.datetime  # naive UTC: from this time on

    @property
    def code(self) -> int:
        return ANSWERS[self.status][0]

    @property
    def message(self) -> str:
        return ANSWERS[self.status][1]


class Fates:
    """The fates of a world's posts: drawn once from its seed (``rate``: the share of posts that
    meet one, 6 hours to 5 days after they were posted), plus any set by hand."""

    def __init__(self, posts, seed: int, rate: float = 0.0):
        self._lock = threading.Lock()
        self._fates: dict[str, Fate] = {}
        if rate > 0:
            rng = random.Random(f"{seed}:fates")
            names, weights = list(WEIGHTS), list(WEIGHTS.values())
            for post in posts:
                if rng.random() < rate:
                    status = rng.choices(names, weights)[0]
                    self._fates[post.post_id] = Fate(status, post.created_at + dt.timedelta(hours=rng.uniform(6, 120)))

    def set(self, post_id: str, status: str | None, at: dt.datetime) -> None:
        """Give ``post_id`` the fate ``status`` from ``at`` (None: it stays available)."""
        if status is not None and status not in ANSWERS:
            raise ValueError(f"unknown fate {status!r}: use one of {', '.join(ANSWERS)}")
        with self._lock:
            if status is None:
                self._fates.pop(post_id, None)
            else:
                self._fates[post_id] = Fate(status, at)

    def of(self, post_id: str, t: dt.datetime) -> Fate | None:
        """The fate that has struck ``post_id`` by ``t``, or None while it is available."""
        fate = self._fates.get(post_id)
        return fate if fate is not None and fate.at <= t else None

    def all(self) -> dict[str, Fate]:
        with self._lock:
            return dict(self._fates)


def gone_answer(fate: Fate) -> dict:
    """The item detail's answer for a post TikTok no longer shows."""
    return {
        "extra": {"fatal_item_ids": [], "logid": "offline", "now": 0},
        "log_pb": {"impr_id": "offline"},
        "statusCode": fate.code,
        "statusMsg": fate.message,
        "status_code": fate.code,
        "status_msg": fate.message,
    }
