"""Campaign DynamoDB exports at scale, in AWS's layout: one full export per table, then 1% incrementals.

Default scale 1.0: 200,000 user_Campaign items with 5 to 15 progress entries (about 2 million curated
rows) and 1,000 campaigns of 20 tasks, created over the 60 days before T0; each incremental touches a
share of the items (updates, inserts and a few deletes); a campaignInfo incremental moves some deadlines.

Two change distributions: "realistic", where 80% of the changed items were created in the last 7 days
of the data (progress mostly moves on recent enrolments, so few `created_date` partitions are
touched), and "uniform", the worst case, where every item is as likely to change (every partition is
touched).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from scripts.export_writer import Change, write_full_export, write_incremental_export

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
STATES = ["COMPLETED", "FAILED", "PENDING", "IN_PROGRESS"]
REASONS = ["", "", "", "photo unreadable", "link expired"]
DISTRIBUTIONS = ("realistic", "uniform")
RECENT = timedelta(days=7)  # "recent" items, for the realistic distribution
RECENT_SHARE = 0.8


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Generator:
    scale: float = 1.0
    seed: int = 7

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.n_users = max(100, int(200_000 * self.scale))
        self.n_campaigns = max(10, int(1_000 * self.scale))
        self.tasks = {f"CAMP#{c:05d}": [f"TASK#{t:02d}" for t in range(20)] for c in range(self.n_campaigns)}
        self.campaigns = {cid: self._campaign(cid) for cid in self.tasks}
        self.items: dict[tuple[str, str], dict] = {}
        self.next_user = 0
        for _ in range(self.n_users):
            item = self._new_item(T0 - timedelta(days=self.rng.randint(1, 60)))
            self.items[(item["userID"], item["campaignID"])] = item

    def _campaign(self, cid: str) -> dict:
        deadline = T0 + timedelta(days=self.rng.randint(5, 40))
        return {
            "campaignID": cid,
            "title": f"Campaign {cid[5:]}",
            "rewardClaimDeadline": _iso(deadline),
            "endsAtTimestamp": _iso(deadline),
            "createdAt": _iso(T0 - timedelta(days=90)),
            "updatedAt": _iso(T0 - timedelta(days=90)),
            "campaignTasks": [
                {
                    "taskID": t,
                    "rewardAmount": Decimal(self.rng.randint(1, 50)),
                    "taskDeadline": _iso(deadline - timedelta(hours=self.rng.randint(0, 96))),
                }
                for t in self.tasks[cid]
            ],
        }

    def _entry(self, task: str, when: datetime) -> dict:
        return {
            "taskID": task,
            "userCampaignTaskProgressState": self.rng.choice(STATES),
            "validatedAt": _iso(when),
            "validationFailureReason": self.rng.choice(REASONS),
            "rewardEarned": Decimal(self.rng.randint(0, 500)) / 10,
        }

    def _new_item(self, created: datetime) -> dict:
        self.next_user += 1
        cid = f"CAMP#{self.rng.randrange(self.n_campaigns):05d}"
        tasks = self.rng.sample(self.tasks[cid], self.rng.randint(5, 15))
        entries = [self._entry(t, created + timedelta(minutes=self.rng.randint(1, 5000))) for t in tasks]
        return {
            "userID": f"USER#{self.next_user:08d}",
            "campaignID": cid,
            "userCampaignProgressState": "IN_PROGRESS",
            "createdAt": _iso(created),
            "updatedAt": _iso(created),
            "totalTaskRewardsEarned": sum(e["rewardEarned"] for e in entries),
            "progressDetails": entries,
        }

    def write_full(self, landing: Path, files: int = 8) -> None:
        write_full_export(landing, "campaignInfo", T0, self.campaigns.values())
        write_full_export(landing, "user_Campaign", T0, self.items.values(), files=files)

    def changed_keys(self, count: int, distribution: str) -> list[tuple[str, str]]:
        """`count` item keys to change: uniformly, or 80% among the items created in the last 7 days."""
        keys = sorted(self.items)
        if distribution == "uniform":
            return self.rng.sample(keys, min(count, len(keys)))
        if distribution != "realistic":
            raise ValueError(f"distribution must be one of {DISTRIBUTIONS}")
        newest = max(self.items[k]["createdAt"] for k in keys)
        since = _iso(datetime.fromisoformat(newest.replace("Z", "+00:00")) - RECENT)
        recent = [k for k in keys if self.items[k]["createdAt"] >= since]
        older = [k for k in keys if self.items[k]["createdAt"] < since]
        from_recent = min(len(recent), round(count * RECENT_SHARE))
        picked = self.rng.sample(recent, from_recent) + self.rng.sample(older, min(len(older), count - from_recent))
        self.rng.shuffle(picked)
        return picked

    def write_incremental(
        self,
        landing: Path,
        number: int,
        fraction: float = 0.01,
        distribution: str = "realistic",
        count: int | None = None,
    ) -> dict[str, int]:
        """The number-th hourly window after T0, touching `count` items (default: `fraction` of them)."""
        start, end = T0 + timedelta(hours=number - 1), T0 + timedelta(hours=number)
        keys = self.changed_keys(count if count is not None else int(len(self.items) * fraction), distribution)
        changes, counts = [], {"updates": 0, "inserts": 0, "deletes": 0}
        for index, key in enumerate(keys):
            old = self.items[key]
            if index % 20 == 0:  # 5% of the touched items are deleted
                del self.items[key]
                changes.append(Change(dict(zip(("userID", "campaignID"), key, strict=True)), None, old, start))
                counts["deletes"] += 1
            elif index % 5 == 0:  # 15%: a new item instead
                new = self._new_item(start)
                self.items[(new["userID"], new["campaignID"])] = new
                changes.append(Change({"userID": new["userID"], "campaignID": new["campaignID"]}, new, None, start))
                counts["inserts"] += 1
            else:  # an entry progresses
                entries = [dict(e) for e in old["progressDetails"]]
                entries[self.rng.randrange(len(entries))].update(
                    userCampaignTaskProgressState="COMPLETED", validatedAt=_iso(start + timedelta(minutes=5))
                )
                new = {**old, "progressDetails": entries, "updatedAt": _iso(start + timedelta(minutes=5))}
                self.items[key] = new
                changes.append(Change(dict(zip(("userID", "campaignID"), key, strict=True)), new, old, start))
                counts["updates"] += 1
        write_incremental_export(landing, "user_Campaign", start, end, changes)
        return counts

    def move_deadlines(self, landing: Path, number: int, campaigns: int = 10) -> None:
        start, end = T0 + timedelta(hours=number - 1), T0 + timedelta(hours=number)
        changes = []
        for cid in self.rng.sample(sorted(self.campaigns), min(campaigns, len(self.campaigns))):
            old = self.campaigns[cid]
            tasks = [
                {
                    **t,
                    "taskDeadline": _iso(
                        datetime.fromisoformat(t["taskDeadline"].replace("Z", "+00:00")) + timedelta(days=2)
                    ),
                }
                for t in old["campaignTasks"]
            ]
            self.campaigns[cid] = {**old, "campaignTasks": tasks, "updatedAt": _iso(start)}
            changes.append(Change({"campaignID": cid}, self.campaigns[cid], old, start))
        write_incremental_export(landing, "campaignInfo", start, end, changes)
