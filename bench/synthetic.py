"""Synthetic TikTok web feed pages: realistic itemStruct shapes, Zipf-distributed hashtags."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np


def hashtag_vocabulary(n: int) -> list[str]:
    base = ["valet2026", "svtnyheter", "klimat", "fyp", "sverige", "nyheter", "politik", "foryou", "stockholm", "mat"]
    return base + [f"tag{i}" for i in range(n - len(base))]


class World:
    def __init__(self, *, posts: int, authors: int, hashtags: int, seed: int = 1):
        self.rng = np.random.default_rng(seed)
        self.random = random.Random(seed)
        self.tags = hashtag_vocabulary(hashtags)
        self.posts = posts
        self.authors = authors
        # Zipf over hashtag ranks, truncated to the vocabulary
        self.zipf = np.minimum(self.rng.zipf(1.3, size=posts * 4), hashtags) - 1

    def item(self, n: int, when: dt.datetime) -> dict:
        post_id = str(7_300_000_000_000_000_000 + n)
        author = n % self.authors
        uid = f"user{author}"
        k = 1 + n % 4
        tags = sorted({self.tags[int(t)] for t in self.zipf[n * 4 : n * 4 + k]})
        age_h = 1 + (n % 500)
        views = int(1000 * age_h**1.2 + n % 997)
        return {
            "id": post_id,
            "desc": f"Inlägg {n} om " + " ".join(f"#{t}" for t in tags),
            "createTime": int(when.timestamp()) - age_h * 3600,
            "author": {
                "id": str(6_800_000_000_000_000_000 + author),
                "uniqueId": uid,
                "nickname": uid.title(),
                "signature": "",
                "verified": False,
                "secUid": "MS4wLjABAAAA" + uid,
                "avatarThumb": f"https://p16-sign.tiktokcdn.com/a/{uid}.jpeg",
            },
            "authorStats": {
                "followerCount": 1000 + author * 7,
                "followingCount": 10,
                "heart": 50_000 + author,
                "heartCount": 50_000 + author,
                "videoCount": 40,
                "diggCount": 5,
            },
            "music": {
                "id": str(7_100_000_000_000_000_000 + n % 5000),
                "title": "original sound",
                "authorName": uid,
                "original": True,
                "duration": 30,
                "playUrl": "https://v16.tiktokcdn.com/m.mp3",
            },
            "challenges": [{"id": str(10_000 + self.tags.index(t)), "title": t, "desc": ""} for t in tags],
            "textExtra": [{"hashtagName": t, "type": 1, "start": 0, "end": 1} for t in tags],
            "stats": {
                "playCount": round(views, -3),
                "diggCount": views // 20,
                "commentCount": views // 500,
                "shareCount": views // 900,
                "collectCount": views // 300,
            },
            "statsV2": {
                "playCount": str(views),
                "diggCount": str(views // 20),
                "commentCount": str(views // 500),
                "shareCount": str(views // 900),
                "collectCount": str(views // 300),
                "repostCount": "0",
            },
            "video": {
                "id": post_id,
                "duration": 15 + n % 45,
                "cover": f"https://p16-sign.tiktokcdn.com/obj/{post_id}.jpeg?x-expires=1",
                "playAddr": f"https://v16-webapp.tiktok.com/video/{post_id}/",
                "height": 1024,
                "width": 576,
                "format": "mp4",
            },
            "locationCreated": "SE",
            "isAd": False,
            "createTimeISO": "",
            "duetEnabled": True,
            "stitchEnabled": True,
        }

    def feed_page(self, start: int, count: int, when: dt.datetime, cursor: int) -> dict:
        return {
            "statusCode": 0,
            "hasMore": True,
            "cursor": str(cursor + count),
            "itemList": [self.item(n, when) for n in range(start, min(start + count, self.posts))],
        }
