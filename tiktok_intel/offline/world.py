"""A deterministic TikTok world from a seed: hashtags that co-occur like real ones, authors, and
posts whose counts grow over simulated time.

Nothing here reads the wall clock: every question takes the time ``t`` (naive UTC) it is asked
at, so a collection at ``t`` and one at ``t + 8 h`` see more views, more likes, more followers and
newer posts, exactly as two real collections would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import random
from collections.abc import Iterable, Sequence

from ..conventions import hashtag as _hashtag

#: The world's time origin: posts are created from 30 days before it to 60 days after it.
EPOCH = dt.datetime(2026, 11, 1)

#: Topics and their hashtags, most typical first (a post of a topic draws mostly from its head).
DEFAULT_TOPICS: dict[str, tuple[str, ...]] = {
    "valet": ("valet2026", "svtnyheter", "politik", "riksdagen", "sverige", "debatt", "nyheter", "val2026"),
    "klimat": ("klimat", "klimatkris", "miljö", "hållbarhet", "sverige", "svtnyheter", "nyheter", "elbil"),
    "sport": ("fotboll", "allsvenskan", "sport", "blågult", "sverige", "damallsvenskan"),
    "kultur": ("melodifestivalen", "musik", "kultur", "svtnyheter", "schlager"),
    "vardag": ("fika", "stockholm", "göteborg", "malmö", "vardag", "humor"),
}
GENERIC_TAGS = ("fyp", "foryou", "viral", "fördig")

_FIRST = (
    "anna",
    "erik",
    "lars",
    "karin",
    "sara",
    "johan",
    "emma",
    "oskar",
    "elin",
    "nils",
    "maja",
    "axel",
    "linnea",
    "ali",
    "fatima",
    "hugo",
    "wilma",
    "ebba",
    "liam",
    "saga",
    "åsa",
    "örjan",
    "märta",
)
_LAST = (
    "andersson",
    "johansson",
    "karlsson",
    "nilsson",
    "eriksson",
    "larsson",
    "olsson",
    "persson",
    "svensson",
    "gustafsson",
    "lindberg",
    "öberg",
    "åkesson",
    "hussein",
    "berg",
)
_ORGS = (
    ("svtnyheter", "SVT Nyheter"),
    ("aftonbladet", "Aftonbladet"),
    ("dn.se", "Dagens Nyheter"),
    ("sverigesradio", "Sveriges Radio"),
    ("expressen", "Expressen"),
    ("klimatkollen", "Klimatkollen"),
)
_PHRASES = {
    "valet": (
        "Så röstade unga i valet",
        "Partiledardebatten på 60 sekunder",
        "Vad tycker du om valet 2026?",
        "Vallokalen öppnar kl 8",
        "Här är siffrorna från SVT/Novus",
    ),
    "klimat": (
        "Så påverkas Sverige av klimatkrisen",
        "Rekordvärme i november",
        "Tre saker du kan göra för klimatet",
        "Elbil eller tåg?",
        "Glaciären som försvann",
    ),
    "sport": ("Vilket mål!", "Derbyt på Tele2", "Blågult tar medalj", "Allsvenskan avgörs ikväll"),
    "kultur": ("Melodifestivalen: veckans favorit", "Ny låt ute nu", "Bakom kulisserna", "Schlager-quiz"),
    "vardag": ("Fikapaus på jobbet", "Stockholm i höstmörker", "När chefen säger...", "Lördagsgodis-ranking"),
}
_OVERLAYS = {
    "valet": ("Valet 2026 #svtnyheter", "Rösta 13 september", "VALET 2026"),
    "klimat": ("Klimat: rekordvärme", "#klimat 2026", "Hur varmt blir det?"),
    "sport": ("MÅÅÅL!", "Allsvenskan 2026"),
    "kultur": ("Melodifestivalen 2026", "Ny låt!"),
    "vardag": ("Fredagsmys", "Fika?"),
}
_REGIONS = ("SE",) * 8 + ("NO", "FI", "DK")


def tiktok_rounded(value: int) -> int:
    """The rounded count TikTok shows in ``stats``: exact below 10,000, else 3 significant digits."""
    if value < 10_000:
        return int(value)
    digits = int(math.floor(math.log10(value))) + 1
    step = 10 ** (digits - 3)
    return int(round(value / step) * step)


def _rng(seed: int, *parts: object) -> random.Random:
    key = ":".join(str(p) for p in (seed, *parts))
    return random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))


def _big_id(rng: random.Random, prefix: int) -> str:
    return str(prefix * 10**17 + rng.randrange(10**17))


def _norm(name: str) -> str:
    return _hashtag(name) or ""


@dataclasses.dataclass(frozen=True)
class Author:
    author_id: str
    unique_id: str
    nickname: str
    signature: str
    verified: bool
    sec_uid: str
    base_followers: int
    follower_growth_per_day: float
    following: int
    base_videos: int
    likes_given: int

    def followers(self, t: dt.datetime) -> int:
        days = max(0.0, (t - (EPOCH - dt.timedelta(days=60))).total_seconds() / 86400)
        return int(self.base_followers * (1 + self.follower_growth_per_day * days))


@dataclasses.dataclass(frozen=True)
class Post:
    post_id: str
    author: Author
    created_at: dt.datetime
    topic: str
    hashtags: tuple[str, ...]
    description: str
    peak_views: int
    tau_hours: float
    rates: tuple[float, float, float, float]  # likes, comments, shares, saves per view
    duration_s: int
    music_id: str
    region: str
    cover_kind: str  # 'text' | 'dup' | 'plain'
    cover_group: int  # near-duplicate group (dup), else the post's own number
    cover_variant: int  # which alteration of the group's picture
    overlay: str  # text drawn on 'text' covers ('' otherwise)

    def visible(self, t: dt.datetime) -> bool:
        return self.created_at <= t

    def counts(self, t: dt.datetime) -> dict[str, int]:
        """Exact counts at time ``t``: views saturate towards the post's peak; the rest follow views."""
        hours = max(0.0, (t - self.created_at).total_seconds() / 3600)
        views = int(self.peak_views * (1 - math.exp(-hours / self.tau_hours))) + (1 if hours > 0 else 0)
        likes, comments, shares, saves = (int(views * r) for r in self.rates)
        return {"views": views, "likes": likes, "comments": comments, "shares": shares, "saves": saves}


@dataclasses.dataclass(frozen=True)
class Hashtag:
    name: str
    challenge_id: str
    description: str
    base_videos: int
    base_views: int


class World:
    """Everything the offline TikTok knows, built once from ``seed``.

    ``hashtags``: names that must exist (each one not in a topic gets a topic of its own);
    ``topics``: replaces :data:`DEFAULT_TOPICS`.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        hashtags: Iterable[str] = (),
        topics: dict[str, Sequence[str]] | None = None,
        n_authors: int = 80,
        n_posts: int = 900,
        epoch: dt.datetime = EPOCH,
        fate_rate: float = 0.0,
    ):
        self.seed = seed
        self.epoch = epoch
        self.topics: dict[str, tuple[str, ...]] = {k: tuple(_norm(t) for t in v) for k, v in (topics or DEFAULT_TOPICS).items()}
        known = {t for tags in self.topics.values() for t in tags}
        for name in hashtags:
            name = _norm(name)
            if name and name not in known:
                self.topics[name] = (name, "sverige", "nyheter")
                known.add(name)
        rng = _rng(seed, "world")
        self.authors = self._make_authors(rng, n_authors)
        self.posts = self._make_posts(rng, n_posts)
        self.posts_by_id = {p.post_id: p for p in self.posts}
        self.authors_by_name = {a.unique_id: a for a in self.authors}
        names = sorted({t for p in self.posts for t in p.hashtags} | known)
        self.hashtags = {n: self._make_hashtag(n) for n in names}
        self.by_hashtag: dict[str, list[Post]] = {n: [] for n in names}
        for post in self.posts:
            for tag in post.hashtags:
                self.by_hashtag[tag].append(post)
        for posts in self.by_hashtag.values():
            posts.sort(key=lambda p: (p.created_at, p.post_id), reverse=True)
        self.posts_by_author: dict[str, list[Post]] = {}
        for post in self.posts:
            self.posts_by_author.setdefault(post.author.unique_id, []).append(post)
        from .fates import Fates

        self.fates = Fates(self.posts, seed, fate_rate)  # removals, privatisations, region blocks over time

    # -- construction -------------------------------------------------------------------------
    def _make_authors(self, rng: random.Random, n: int) -> list[Author]:
        authors: list[Author] = []
        used: set[str] = set()
        for i in range(n):
            if i < len(_ORGS):
                unique_id, nickname = _ORGS[i]
                verified, followers = True, rng.randint(200_000, 2_000_000)
            else:
                first, last = rng.choice(_FIRST), rng.choice(_LAST)
                unique_id = rng.choice((f"{first}.{last}", f"{first}_{last}{rng.randint(1, 99)}", f"{first}{rng.randint(70, 2009)}"))
                nickname = f"{first.capitalize()} {last.capitalize()}"
                verified, followers = rng.random() < 0.03, int(rng.lognormvariate(7, 1.8))
            while unique_id in used:
                unique_id += str(rng.randint(0, 9))
            used.add(unique_id)
            authors.append(
                Author(
                    author_id=_big_id(rng, 68),
                    unique_id=unique_id,
                    nickname=nickname,
                    signature=rng.choice(("", "Stockholm 📍", "Nyheter varje dag", "Klimat & politik", "Bara kul 🙃")),
                    verified=verified,
                    sec_uid="MS4wLjABAAAA" + hashlib.sha256(f"{self.seed}{unique_id}".encode()).hexdigest()[:40],
                    base_followers=followers + 10,
                    follower_growth_per_day=rng.uniform(0.001, 0.02),
                    following=rng.randint(0, 900),
                    base_videos=rng.randint(0, 400),
                    likes_given=rng.randint(0, 50_000),
                )
            )
        return authors

    def _make_posts(self, rng: random.Random, n: int) -> list[Post]:
        topic_names = list(self.topics)
        topic_weights = [3.0 if i == 0 else 2.0 if i == 1 else 1.0 for i in range(len(topic_names))]
        author_weights = [1.0 / (i + 1) ** 0.8 for i in range(len(self.authors))]
        start = self.epoch - dt.timedelta(days=30)
        posts: list[Post] = []
        dup_group, dup_left = -1, 0
        for i in range(n):
            topic = rng.choices(topic_names, topic_weights)[0]
            pool = self.topics[topic]
            weights = [1.0 / (j + 1) for j in range(len(pool))]
            k = rng.randint(1, min(4, len(pool)))
            tags: list[str] = [pool[0]] if rng.random() < 0.7 else []
            while len(tags) < k:
                tag = rng.choices(pool, weights)[0]
                if tag not in tags:
                    tags.append(tag)
            if rng.random() < 0.4:
                tags.append(rng.choice(GENERIC_TAGS))
            if rng.random() < 0.12:
                other = self.topics[rng.choice(topic_names)]
                tags.append(other[0])
            tags = list(dict.fromkeys(tags))
            author = rng.choices(self.authors, author_weights)[0]
            created = start + dt.timedelta(seconds=rng.randrange(90 * 86400))
            phrase = rng.choice(_PHRASES.get(topic, ("Nytt klipp",)))
            description = phrase + " " + " ".join("#" + t for t in tags)
            roll = rng.random()
            if dup_left > 0:
                kind, group, dup_left = "dup", dup_group, dup_left - 1
            elif roll < 0.3:
                kind, group = "text", i
            elif roll < 0.45:
                kind, dup_group, dup_left = "dup", i, rng.randint(1, 3)
                group = i
            else:
                kind, group = "plain", i
            overlay = rng.choice(_OVERLAYS.get(topic, ("#" + tags[0],))) if kind == "text" else ""
            posts.append(
                Post(
                    post_id=_big_id(rng, 73),
                    author=author,
                    created_at=created,
                    topic=topic,
                    hashtags=tuple(tags),
                    description=description,
                    peak_views=int(min(5e7, rng.lognormvariate(8.5, 1.9))) + 50,
                    tau_hours=rng.uniform(6, 120),
                    rates=(rng.uniform(0.03, 0.12), rng.uniform(0.001, 0.01), rng.uniform(0.0005, 0.01), rng.uniform(0.001, 0.02)),
                    duration_s=rng.randint(7, 180),
                    music_id=_big_id(rng, 71),
                    region=rng.choice(_REGIONS),
                    cover_kind=kind,
                    cover_group=group,
                    cover_variant=i,
                    overlay=overlay,
                )
            )
        return posts

    def _make_hashtag(self, name: str) -> Hashtag:
        rng = _rng(self.seed, "hashtag", name)
        popular = name in GENERIC_TAGS
        return Hashtag(
            name=name,
            challenge_id=str(rng.randrange(10**15, 10**19 // 2)),
            description=f"Klipp om #{name}" if rng.random() < 0.6 else "",
            base_videos=rng.randint(10**7, 10**8) if popular else rng.randint(100, 200_000),
            base_views=rng.randint(10**11, 10**12) if popular else rng.randint(10**5, 10**9),
        )

    # -- questions, always at a time t ------------------------------------------------------------
    def feed(self, hashtag: str, t: dt.datetime) -> list[Post]:
        """A hashtag's feed at ``t``: visible posts carrying it, newest first."""
        return [p for p in self.by_hashtag.get(_norm(hashtag), []) if p.visible(t) and self.fates.of(p.post_id, t) is None]

    def hashtag(self, name: str) -> Hashtag | None:
        return self.hashtags.get(_norm(name))

    def hashtag_by_id(self, challenge_id: str) -> Hashtag | None:
        return next((h for h in self.hashtags.values() if h.challenge_id == str(challenge_id)), None)

    def hashtag_stats(self, name: str, t: dt.datetime) -> dict[str, int]:
        tag = self.hashtags[_norm(name)]
        feed = self.feed(name, t)
        return {"videoCount": tag.base_videos + len(feed), "viewCount": tag.base_views + sum(p.counts(t)["views"] for p in feed)}

    def author(self, unique_id: str) -> Author | None:
        return self.authors_by_name.get(unique_id.lstrip("@").lower())

    def author_stats(self, author: Author, t: dt.datetime) -> dict[str, int]:
        posts = [p for p in self.posts_by_author.get(author.unique_id, []) if p.visible(t)]
        return {
            "followerCount": author.followers(t),
            "followingCount": author.following,
            "heartCount": sum(p.counts(t)["likes"] for p in posts) + author.base_followers // 3,
            "videoCount": author.base_videos + len(posts),
            "diggCount": author.likes_given,
            "friendCount": author.following // 10,
        }

    def search(
        self,
        t: dt.datetime,
        *,
        hashtags: Sequence[str] = (),
        regions: Sequence[str] = (),
        keywords: Sequence[str] = (),
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> list[Post]:
        """Research API search: posts created in [start, end) matching every condition, newest first."""
        wanted = {_norm(h) for h in hashtags}
        result = []
        for post in self.posts:
            if not post.visible(t) or (start and post.created_at < start) or (end and post.created_at >= end):
                continue
            if wanted and not wanted & set(post.hashtags):
                continue
            if regions and post.region not in regions:
                continue
            if keywords and not any(k.lower() in post.description.lower() for k in keywords):
                continue
            result.append(post)
        result.sort(key=lambda p: (p.created_at, p.post_id), reverse=True)
        return result
