"""Stories: the copies of one text stored at several addresses (潮州日报 on gdxk, southcn.com and 南方+) linked as one.

At store time (``pipelines.store.store_article``, inside the article's transaction) the body is cut into character
shingles, signed with MinHash, and the signature's LSH band keys are looked up in ``story_bands``: articles that
share a band are candidates. Each candidate is then verified on the exact shingle sets of both bodies, so an
estimate never links two articles by itself. A match sets ``articles.story_id``: the article joins the matched
story, two stories it matches are merged, and the ``stories`` row (title and date of the earliest copy, how many
copies) is kept in step. An article whose text changes is signed again and leaves a story it no longer matches;
the copies it leaves are regrouped by their own verified links (a bridge gone splits the story in two), and a
story left with one copy is dissolved (a NULL ``story_id`` is a story of its own).

Why ``rensa`` for MinHash and not ``datasketch``: rensa's wheel is 1.2 MB with no dependencies and imports in 5 ms;
datasketch needs numpy and scipy (about 215 MB installed here) and imports in 1.3 s, which every CLI command
would pay. Signing 2,000 shingles with 128 permutations takes 0.03 ms (datasketch: 7.5 ms). Its estimates match
datasketch's (both within 0.05 of the true Jaccard in our check) and its digests are the same in every process
(seeded hashing, checked), which matters because signatures are stored. The LSH index is ours, in SQLite
(``story_bands``), so candidates are found in the archive itself, with no index to rebuild in memory. Measured in
docs/benchmarks.md ("Stories").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from array import array
from dataclasses import dataclass

from rensa import RMinHash
from sqlite_utils import Database

# Shingles of 5 characters: sizes 3 to 6 link the same pairs of benchmarks/stories.py (--k), and 5 is in the
# middle of that plateau; 3 makes twice as many different articles candidates (18 pairs against 8-13). Bands of
# 3 rows (42 bands; the last 2 values only count for the estimate): a pair with Jaccard 0.43 (a copy that kept
# less than half the text) shares a band with probability 0.97, one with 0.05 with 0.005, so most look-ups
# verify nothing.
SHINGLE_SIZE = 5
PERMUTATIONS = 128
ROWS_PER_BAND = 3
# Changing the seed or the sizes makes every stored signature meaningless: drop story_signatures and story_bands
# and the next write command signs every article again (link_unsigned).
SEED = 14
# A text needs this many shingles (about as many characters) to be linked at all: a short notice is mostly the
# column's set phrases, and two such notices are not one story.
MIN_SHINGLES = 80
# Verified on exact sets: enough shingles in common, and either most of both (Jaccard) or most of the shorter
# text (containment: the copy that cut a paragraph, or kept only the first part).
MIN_SHARED = 80
MIN_JACCARD = 0.5
MIN_CONTAINMENT = 0.8
# Before reading a candidate's body: the signatures' estimate of Jaccard must reach this. A copy's estimate is
# near its Jaccard (0.4 or more for one that kept half the text); a candidate from one lucky band is near 0.
MIN_ESTIMATE = 0.2
# The candidates sharing most bands are verified, no more: the look-up's cost stays bounded however many
# articles share a phrase.
MAX_CANDIDATES = 20
# A band key that more than this many other articles hold is text they all carry (a disclaimer or editor's note
# the parser kept, a series' preface, a listing's set lines), not a story: it finds no candidate. Without it a
# 200-character disclaimer under 3,000 different photo captions made them one story of 3,000, and every look-up
# counted thousands of rows. A copy is still found by the bands its own text makes; a story stops growing past
# about this many copies, and the first few articles sharing such text can still be linked before it counts.
COMMON_BAND = 12
# No story has more copies than this: one text at a dozen addresses is already far more than the archive's sites
# make (潮州日报 on gdxk, southcn.com and 南方+), and the articles that such text joins before its bands count as
# common make a story no larger than this either. A link that would pass it is not made.
MAX_STORY_COPIES = 12
BACKFILL_BATCH = 200
# What fold drops: everything but letters and digits (Unicode's L* and N*: \w without the underscore).
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Similarity:
    """How much of two shingle sets is shared."""

    shared: int
    jaccard: float
    containment: float

    def same_story(self) -> bool:
        return self.shared >= MIN_SHARED and (self.jaccard >= MIN_JACCARD or self.containment >= MIN_CONTAINMENT)


def fold(text: str) -> str:
    """The text as compared: NFKC (full-width letters and digits as ASCII), lower case, letters and digits only,
    so that a template's punctuation, spacing or line breaks never tell two copies apart."""
    return _NOT_LETTER_OR_DIGIT.sub("", unicodedata.normalize("NFKC", text or "").lower())


def shingles(text: str, size: int | None = None) -> set[str]:
    folded = fold(text)
    size = size or SHINGLE_SIZE
    return {folded[i:i + size] for i in range(len(folded) - size + 1)}


def compare(a: set[str], b: set[str]) -> Similarity:
    shared = len(a & b)
    union = len(a) + len(b) - shared
    smaller = min(len(a), len(b))
    return Similarity(shared, shared / union if union else 0.0, shared / smaller if smaller else 0.0)


def sign(grams: set[str]) -> list[int]:
    minhash = RMinHash(num_perm=PERMUTATIONS, seed=SEED)
    minhash.update(list(grams))  # a minimum: the order does not matter
    return list(minhash.digest())


def band_keys(signature: list[int]) -> list[int]:
    """One key per band: the band's number and its rows, hashed to a signed 64-bit integer (SQLite's INTEGER)."""
    raw = array("I", signature).tobytes()
    width = ROWS_PER_BAND * 4
    return [int.from_bytes(hashlib.blake2b(bytes([band]) + raw[band * width:(band + 1) * width],
                                           digest_size=8).digest(), "little", signed=True)
            for band in range(len(signature) // ROWS_PER_BAND)]


def forget_signature(db: Database, article_id: int) -> None:
    row = db.execute("SELECT signature FROM story_signatures WHERE article_id = ?", [article_id]).fetchone()
    if row is None:
        return
    if row[0] is not None:
        keys = band_keys(list(array("I", row[0])))
        db.conn.executemany("DELETE FROM story_bands WHERE band_key = ? AND article_id = ?",
                            [(key, article_id) for key in keys])
    db.execute("DELETE FROM story_signatures WHERE article_id = ?", [article_id])


def save_signature(db: Database, article_id: int, grams: set[str]) -> list[int]:
    """Store the article's signature and band keys; returns the signature ([] for a text too short to link)."""
    if len(grams) < MIN_SHINGLES:
        db.execute("INSERT INTO story_signatures (article_id, shingle_count, signature) VALUES (?, ?, NULL)",
                   [article_id, len(grams)])
        return []
    signature = sign(grams)
    keys = band_keys(signature)
    db.execute("INSERT INTO story_signatures (article_id, shingle_count, signature) VALUES (?, ?, ?)",
               [article_id, len(grams), array("I", signature).tobytes()])
    db.conn.executemany("INSERT OR IGNORE INTO story_bands (band_key, article_id) VALUES (?, ?)",
                        [(key, article_id) for key in keys])
    return signature


def find_candidates(db: Database, article_id: int, keys: list[int]) -> list[int]:
    """Articles sharing a band with these keys (keys that too many articles hold left out), most bands first."""
    keys = [key for key in keys if db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM story_bands WHERE band_key = ? AND article_id != ? LIMIT ?)",
        [key, article_id, COMMON_BAND + 1]).fetchone()[0] <= COMMON_BAND]
    if not keys:
        return []
    marks = ",".join("?" * len(keys))
    return [r[0] for r in db.execute(
        f"SELECT article_id FROM story_bands WHERE band_key IN ({marks}) AND article_id != ? "
        "GROUP BY article_id ORDER BY count(*) DESC, article_id LIMIT ?", [*keys, article_id, MAX_CANDIDATES])]


def estimate(a: list[int], b: bytes) -> float:
    """Jaccard as the two signatures estimate it: the share of their values that are equal."""
    return sum(x == y for x, y in zip(a, array("I", b), strict=True)) / len(a)


def find_copies(db: Database, article_id: int, grams: set[str], signature: list[int]) -> list[tuple[int, int | None]]:
    """(id, story_id) of every verified copy among the candidates."""
    copies = []
    for candidate in find_candidates(db, article_id, band_keys(signature) if signature else []):
        other = db.execute("SELECT signature FROM story_signatures WHERE article_id = ?", [candidate]).fetchone()
        if other is None or other[0] is None or estimate(signature, other[0]) < MIN_ESTIMATE:
            continue
        body, story_id = db.execute("SELECT body, story_id FROM articles WHERE id = ?", [candidate]).fetchone()
        if compare(grams, shingles(body)).same_story():
            copies.append((candidate, story_id))
    return copies


def link_article(db: Database, article_id: int, body: str | None) -> int | None:
    """Sign the article's (new) text and link it to its verified copies; returns its story id (None: on its own).

    Call inside the article's write transaction, after its row holds ``body``.
    """
    old = db.execute("SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()[0]
    forget_signature(db, article_id)
    grams = shingles(body or "")
    signature = save_signature(db, article_id, grams)
    copies = find_copies(db, article_id, grams, signature)
    stories = {story_id for _, story_id in copies if story_id is not None}
    if copies and joined_size(db, article_id, copies, stories) > MAX_STORY_COPIES:
        # Too many to be one story: it keeps the story it was in, if it is still a copy of it, and joins no other.
        copies = [(copy, story_id) for copy, story_id in copies if old is not None and story_id == old]
        stories = {old} if copies else set()
    if not copies:
        target = None
    elif stories:
        target = min(stories)
    else:
        target = db.execute("INSERT INTO stories (article_count) VALUES (0)").lastrowid
    # The article leaves its old story first; merged stories' copies move to the target before their rows go.
    db.execute("UPDATE articles SET story_id = NULL WHERE id = ?", [article_id])
    if target is not None:
        loose = [article_id] + [cid for cid, story_id in copies if story_id is None]
        db.conn.executemany("UPDATE articles SET story_id = ? WHERE id = ?", [(target, i) for i in loose])
        for merged in stories - {target}:
            db.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", [target, merged])
            db.execute("DELETE FROM stories WHERE id = ?", [merged])
        refresh_story(db, target)
    if old is not None:
        # The story it was in (merged into the target, or left) may have been held together by its old text
        # alone: it bridged two groups that are no copies of each other.
        regroup(db, target if old in stories else old)
    return db.execute("SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()[0]


def joined_size(db: Database, article_id: int, copies: list[tuple[int, int | None]], stories: set[int]) -> int:
    """How many copies the story would have once the article, its copies and their stories are one."""
    marks = ",".join("?" * len(stories))
    members = {r[0] for r in db.execute(f"SELECT id FROM articles WHERE story_id IN ({marks})", [*stories])}
    return len(members | {article_id} | {copy for copy, _ in copies})


def regroup(db: Database, story_id: int) -> None:
    """Split the story into the groups its copies' verified links still make: the largest keeps the id (and the
    earliest member breaks a tie), another group of two or more is a new story, a copy linked to none is on its
    own. Each member is verified against its candidates only, so the cost stays MAX_CANDIDATES per copy."""
    members = [r[0] for r in db.execute("SELECT id FROM articles WHERE story_id = ? ORDER BY id", [story_id])]
    parent = {m: m for m in members}

    def root(m: int) -> int:
        while parent[m] != m:
            parent[m] = parent[parent[m]]
            m = parent[m]
        return m

    for member in members:
        row = db.execute("SELECT s.signature, a.body FROM articles a JOIN story_signatures s ON s.article_id = a.id "
                         "WHERE a.id = ?", [member]).fetchone()
        if row is None or row[0] is None:
            continue
        for copy, _ in find_copies(db, member, shingles(row[1]), list(array("I", row[0]))):
            if copy in parent:
                parent[root(copy)] = root(member)
    groups: dict[int, list[int]] = {}
    for member in members:
        groups.setdefault(root(member), []).append(member)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]))
    for group in ordered[1:]:
        new = db.execute("INSERT INTO stories (article_count) VALUES (0)").lastrowid if len(group) > 1 else None
        db.conn.executemany("UPDATE articles SET story_id = ? WHERE id = ?", [(new, m) for m in group])
        if new is not None:
            refresh_story(db, new)
    refresh_story(db, story_id)


def refresh_story(db: Database, story_id: int) -> None:
    """Title, date and count from the story's copies (the earliest published gives the first two); a story left
    with one copy or none is dissolved."""
    count = db.execute("SELECT count(*) FROM articles WHERE story_id = ?", [story_id]).fetchone()[0]
    if count < 2:
        db.execute("UPDATE articles SET story_id = NULL WHERE story_id = ?", [story_id])
        db.execute("DELETE FROM stories WHERE id = ?", [story_id])
        return
    title, published_at = db.execute(
        "SELECT title, published_at FROM articles WHERE story_id = ? "
        "ORDER BY published_at IS NULL, published_at, id LIMIT 1", [story_id]).fetchone()
    db.execute("UPDATE stories SET title = ?, published_at = ?, article_count = ? WHERE id = ?",
               [title, published_at, count, story_id])


def unsigned_articles(db: Database, after: int, limit: int) -> list[tuple[int, str | None]]:
    return [tuple(r) for r in db.execute(
        "SELECT a.id, a.body FROM articles a WHERE a.id > ? AND NOT EXISTS "
        "(SELECT 1 FROM story_signatures s WHERE s.article_id = a.id) ORDER BY a.id LIMIT ?", [after, limit])]


def all_signed(db: Database) -> bool:
    # Two counts on indexes (every signature is an article's), not a scan of the articles and their bodies: what
    # every write command asks before its work (0.3 s for the scan at 100,000 articles).
    articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    return articles == db.execute("SELECT count(*) FROM story_signatures").fetchone()[0]


def link_unsigned(db: Database, batch: int = BACKFILL_BATCH) -> int:
    """Sign and link every article stored before stories existed (no signature yet), ``batch`` articles per write
    transaction, so that other writers wait one batch at most and a stopped run loses one batch at most: the next
    write command goes on from there. Returns how many were linked."""
    from .store import write_transaction  # store calls link_article: import here, not at load

    done = after = 0
    while not all_signed(db):
        with write_transaction(db):
            pending = unsigned_articles(db, after, batch)
            for article_id, body in pending:
                link_article(db, article_id, body)
        done += len(pending)
        if len(pending) < batch:
            return done
        after = pending[-1][0]
    return done
