"""Credential evidence: shared credentials (or base words) between two sources, and dictionary
partitioning (many sources each trying a few entries of one list that no one else tries).

Credentials come in lists: a source that tries one entry of a public list tries many, so ten
shared entries are one piece of evidence, not ten. A pair's weight is the rarity of its rarest
shared entry (the share of sources holding it, in log-odds), growing only with the log of how
many it shares, and capped below the linking threshold: unrelated actors share public lists, so
credentials join sources only together with other evidence. Whether sharing is beyond chance at
all is checked first (Poisson: lambda = n_b * F_a expected shared entries from the entries'
popularity); sharing the top-10 passwords is expected and weighs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from coord_core.analysis import features as fk
from coord_core.analysis.bursts import Burst, fingerprint_bursts
from coord_core.analysis.common_values import common_stems
from coord_core.analysis.distinct import distinct_sorted
from coord_core.analysis.frame import SessionFrame
from coord_core.analysis.parameters import AnalysisParameters
from coord_core.analysis.tails import binom_logsf, p_value_weight, poisson_logsf

# Statistical detectors stay below the artefact weights: exact artefacts are applied first.
PAIR_CAP = 5.0
LONG_TAIL_MIN = 1000
MATCH_RATE = 0.5
RARITY_FLOOR = 0.002


@dataclass(frozen=True)
class CredentialModel:
    matrix: sp.csr_matrix  # sources x credential features (cred + cred_common)
    columns: np.ndarray  # feature ids of the matrix columns
    tried: np.ndarray  # credentials per source
    popularity: np.ndarray  # summed share of the source's credentials
    endemic: np.ndarray  # per column: shared by unrelated networks day after day in history


def credential_model(frame: SessionFrame, *kinds: fk.KindSpec) -> CredentialModel:
    """The overlap model over credential pairs (default) or other credential-like kinds (stems)."""
    columns, matrix = frame.kind_columns(*(kinds or (fk.CREDENTIAL, fk.COMMON_CREDENTIAL)))
    df = np.asarray(matrix.sum(axis=0)).ravel()
    total = max(df.sum(), 1.0)
    # Common passwords are as popular as the window shows; the rest belong to a long tail of
    # thousands of values at least, however few of them one (small) window happens to hold.
    common = frame.feature_kind[columns] == fk.KIND_INDEX[fk.COMMON_CREDENTIAL.name]
    share = np.where(common, df / total, df / max(total, float(LONG_TAIL_MIN)))
    tried = np.diff(matrix.indptr).astype(np.float64)
    popularity = np.asarray(matrix @ share).ravel()
    endemic = frame.endemic_mask()[columns]
    return CredentialModel(
        matrix=matrix, columns=columns, tried=tried, popularity=popularity, endemic=endemic
    )


def overlap_weights(model: CredentialModel, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log-odds weight, shared count) for source pairs (a[i], b[i]); see the module docstring."""
    if len(a) == 0:
        return np.empty(0), np.empty(0)
    both = model.matrix[a].multiply(model.matrix[b]).tocsr()
    shared = np.diff(both.indptr).astype(np.float64)
    lam = np.maximum(model.tried[b] * model.popularity[a], model.tried[a] * model.popularity[b])
    lam = np.maximum(lam, 1e-12)
    with np.errstate(divide="ignore"):
        logp = poisson_logsf(shared - 1, lam)
    beyond_chance = -logp > 3.0
    holders = np.diff(model.matrix.tocsc().indptr).astype(np.float64)
    n_sources = max(model.matrix.shape[0], 1)
    rarest = np.zeros(len(a))
    if both.nnz:
        per_entry = np.log(MATCH_RATE / np.maximum(RARITY_FLOOR, holders[both.indices] / n_sources))
        both.data = np.where(model.endemic[both.indices], 0.0, np.maximum(per_entry, 0.0))
        rarest = np.asarray(both.max(axis=1).toarray()).ravel()
    # One shared uncommon entry is what two users of overlapping public lists produce by chance.
    weight = rarest * (1.0 - 0.5 / np.maximum(shared, 1.0)) + 0.3 * np.log(np.maximum(shared, 1.0))
    weight = np.where((shared > 0) & beyond_chance, np.minimum(weight, PAIR_CAP), 0.0)
    return weight, shared


@dataclass(frozen=True)
class DictionaryGroup:
    """Sources that each tried a few credentials no one else in the window tried."""

    sources: np.ndarray
    profile: tuple[int, ...]  # feature ids of the shared tooling/target profile
    credentials: int
    walk_rate_elsewhere: float  # how often low-attempt sources elsewhere walk a list
    p_value: float
    list_walkers: int = 0  # members two of whose own guesses share a base word
    expected_sources: float = 0.0  # sources a stratum holds elsewhere in the window

    @property
    def weight(self) -> float:
        return p_value_weight(self.p_value)


def _stem_repeats(frame: SessionFrame) -> np.ndarray:
    """Per source: whether two of its own guesses share a base word (walking a rule-expanded list).

    Counted on sessions' login lists: a source that tries ``centos!@#``, ``centos2024``,
    ``centos1234`` is walking one list in order; one that tries three unrelated passwords is not.
    """
    repeats = np.zeros(frame.n_sources, dtype=bool)
    for source, words in frame.source_stem_lists.items():
        repeats[source] = len(words) > len(set(words))
    return repeats


def _list_walkers_and_neighbours(frame: SessionFrame, members: np.ndarray, repeats: np.ndarray) -> np.ndarray:
    """The stratum's sources that walk a list, and those sharing a base word with one that does.

    A popular stratum (the commonest client trying ``root``) also holds unrelated guessers with
    a few rare passwords; only the list and its neighbours in it belong to the campaign.
    """
    walkers = members[repeats[members]]
    if len(walkers) == len(members) or len(walkers) == 0:
        return members
    words = {w for s in walkers.tolist() for w in frame.source_stem_lists.get(int(s), [])}
    neighbours = [
        int(s) for s in members[~repeats[members]] if words & set(frame.source_stem_lists.get(int(s), []))
    ]
    return np.sort(np.concatenate([walkers, np.asarray(neighbours, dtype=np.int64)]))


def dictionary_groups(
    frame: SessionFrame, model: CredentialModel, params: AnalysisParameters
) -> list[DictionaryGroup]:
    """Find stealthy distributed brute force: many sources, each a few guesses of one list.

    Members: sources with a few attempts in the window (2 to ``stealthy_max_attempts``), no
    artefacts, and only rare credentials (no common password; no entry tried by more than three
    sources). They are stratified by their client fingerprint and the usernames they try (one
    tool, one target account list). A stratum is a group when it holds far more such sources
    than the window's other strata do (Poisson), and its sources walk a rule-expanded list (two
    of a source's own guesses share a base word) far more often than other low-attempt sources
    in the window do (binomial, rate measured outside the stratum). The p-value multiplies the
    two and corrects for the number of strata tested.
    """
    if model.matrix.shape[1] == 0:
        return []
    df = np.asarray(model.matrix.sum(axis=0)).ravel()
    rare_col = (df <= 3) & ~model.endemic
    per_source_rare = np.asarray(model.matrix[:, rare_col].sum(axis=1)).ravel()
    tried = model.tried
    attempts = frame.source_attempts
    has_artefact = frame.left_toolkit_artefact()
    # One guess cannot show a list being walked, and its username alone is a poor stratum.
    low = (attempts >= 2) & (attempts <= params.stealthy_max_attempts) & (tried > 0) & ~has_artefact
    eligible = low & (per_source_rare == tried)
    if eligible.sum() < params.dictionary_min_sources:
        return []
    repeats = _stem_repeats(frame)
    key_cols, keyed = frame.kind_columns(fk.CLIENT, fk.HASSH, fk.USERNAME)
    by_key: dict[tuple[int, ...], list[int]] = {}
    for src in np.flatnonzero(low):
        key = tuple(int(key_cols[c]) for c in keyed.indices[keyed.indptr[src] : keyed.indptr[src + 1]])
        by_key.setdefault(key, []).append(int(src))
    # A list walked account by account changes usernames between sources: its walkers are also
    # stratified by their client alone, keeping those chained by the base words they share.
    client_cols, by_client = frame.kind_columns(fk.CLIENT, fk.HASSH)
    of_client: dict[tuple[int, ...], list[int]] = {}
    for low_src in np.flatnonzero(low).tolist():
        cells = by_client.indices[by_client.indptr[low_src] : by_client.indptr[low_src + 1]]
        of_client.setdefault(tuple(int(client_cols[c]) for c in cells), []).append(int(low_src))
    chains: dict[tuple[int, ...], np.ndarray] = {}
    # A list of random-looking entries has no base words to chain: the stratum of an uncommon
    # client (one that would weigh fully in pair likeness) whose low-attempt sources try only
    # rare credentials is tested as it is. A common client's stratum holds many unrelated
    # guessers, and sources with no client fingerprint (telnet) are no stratum.
    client_share = frame.feature_sources[client_cols] / max(frame.n_sources, 1)
    uncommon_client = fk.CLIENT.match_rate / np.maximum(fk.CLIENT.floor, client_share) >= np.exp(
        fk.CLIENT.cap
    )
    uncommon_of = dict(zip(client_cols.tolist(), uncommon_client.tolist(), strict=True))
    unchained: dict[tuple[int, ...], np.ndarray] = {}
    for key, sources in sorted(of_client.items()):
        rare_only = np.asarray([src for src in sources if eligible[src]], dtype=np.int64)
        one_tool = bool(key) and all(uncommon_of[f] for f in key)
        walking = np.asarray([src for src in sources if eligible[src] and repeats[src]], dtype=np.int64)
        if len(walking) >= params.dictionary_min_sources:
            chain = _largest_stem_chain(frame, walking)
            if len(chain) >= params.dictionary_min_sources:
                # An uncommon client's stratum is one tool: a list walked there breaks into
                # pieces wherever a slice ends on a word boundary, and every piece walks it.
                chains[key] = walking if one_tool else chain
                continue
        if one_tool and len(rare_only) >= params.dictionary_min_sources:
            unchained[key] = rare_only
    test = _DictionaryTest(frame, low, eligible, repeats, tried)
    test.strata = (
        len(chains)
        + len(unchained)
        + sum(1 for members in by_key.values() if eligible[members].sum() >= params.dictionary_min_sources)
    )
    account_groups: list[tuple[tuple[int, ...], np.ndarray, np.ndarray]] = []
    for key in sorted(by_key):
        stratum = np.asarray(by_key[key], dtype=np.int64)
        members = _list_walkers_and_neighbours(frame, stratum[eligible[stratum]], repeats)
        if len(members) >= params.dictionary_min_sources:
            account_groups.append((key, stratum, members))
    groups: list[DictionaryGroup] = []
    absorbed: set[int] = set()
    for key, chain in chains.items():
        # A chain absorbs the account strata it overlaps: one list, whichever accounts it tried.
        members = chain
        in_chain = np.zeros(frame.n_sources, dtype=bool)
        in_chain[chain] = True
        for n, (_, _, account_members) in enumerate(account_groups):
            if in_chain[account_members].any():
                members = distinct_sorted(np.concatenate([members, account_members]))
                absorbed.add(n)
        groups.append(test.group(members, np.asarray(of_client[key], dtype=np.int64), key))
    for n, (key, stratum, members) in enumerate(account_groups):
        if n not in absorbed:
            groups.append(test.group(members, stratum, key))
    for key, members in unchained.items():
        groups.append(test.group(members, np.asarray(of_client[key], dtype=np.int64), key))
    return groups


class _DictionaryTest:
    """The two binomial tests of ``dictionary_groups`` for one candidate group in its stratum."""

    def __init__(
        self,
        frame: SessionFrame,
        low: np.ndarray,
        eligible: np.ndarray,
        repeats: np.ndarray,
        tried: np.ndarray,
    ) -> None:
        self.frame, self.low, self.eligible, self.repeats, self.tried = frame, low, eligible, repeats, tried
        self.strata = 1

    def group(self, members: np.ndarray, stratum: np.ndarray, profile: tuple[int, ...]) -> DictionaryGroup:
        k = len(members)
        # Are this stratum's low-attempt sources all-rare more often than the window's others?
        others_low = int(self.low.sum()) - len(stratum)
        others_rare = int(self.eligible.sum()) - k
        rare_rate = (others_rare + 0.5) / (others_low + 1.0)
        expected = round(rare_rate * len(stratum), 4)
        log_p_size = float(binom_logsf(k - 1, len(stratum), min(rare_rate, 1.0)))
        inside = np.zeros(self.frame.n_sources, dtype=bool)
        inside[members] = True
        m2 = int((self.low & inside).sum())
        r = int((self.repeats & self.low & inside).sum())
        outside = self.low & ~inside
        rate = (float((self.repeats & outside).sum()) + 0.5) / (float(outside.sum()) + 1.0)
        log_p_walk = float(binom_logsf(r - 1, m2, rate)) if m2 else 0.0
        log_p = log_p_size + log_p_walk + float(np.log(max(self.strata, 1)))
        return DictionaryGroup(
            sources=members,
            profile=profile,
            credentials=int(self.tried[members].sum()),
            walk_rate_elsewhere=round(rate, 6),
            p_value=float(np.exp(min(0.0, max(log_p, -690.0)))),
            list_walkers=r,
            expected_sources=round(expected, 4),
        )


def _largest_stem_chain(frame: SessionFrame, walkers: np.ndarray) -> np.ndarray:
    """The largest set of walkers joined pairwise through shared uncommon base words (a chain of
    consecutive slices of one rule-expanded list); common stems join nothing. Ties: the chain
    holding the lowest walker."""
    common = common_stems()
    word_ids: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, src in enumerate(walkers.tolist()):
        for word in set(frame.source_stem_lists.get(int(src), [])) - common:
            rows.append(i)
            cols.append(word_ids.setdefault(word, len(word_ids)))
    if not rows:
        return walkers[:1]
    # Walkers and words as one bipartite graph: its components are the chains.
    n = len(walkers)
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, np.asarray(cols) + n)), shape=(n + len(word_ids),) * 2)
    _, labels = connected_components(graph, directed=False)
    counts = np.bincount(labels[:n])
    return np.sort(walkers[labels[:n] == int(np.argmax(counts))])


@dataclass(frozen=True)
class SharedCredential:
    """One uncommon credential that several sources try and little else (a botnet's own password)."""

    feature: int
    sources: np.ndarray
    p_value: float

    @property
    def profile(self) -> tuple[int, ...]:
        """The one feature its sources share (the other credential groups share a profile)."""
        return (self.feature,)

    @property
    def weight(self) -> float:
        return p_value_weight(self.p_value)


def shared_rare_credentials(
    frame: SessionFrame, model: CredentialModel, tight_max: int = 3
) -> list[SharedCredential]:
    """Uncommon credentials held by several *tight* sources (each trying at most ``tight_max``).

    Null model: a tight source's guesses fall uniformly on the window's distinct uncommon
    credentials, so it holds a given one with probability q = tried / distinct; the number of
    tight sources holding it is binomial, corrected for the number of credentials tested.
    """
    rare_cols = np.flatnonzero(
        (frame.feature_kind[model.columns] == fk.KIND_INDEX[fk.CREDENTIAL.name]) & ~model.endemic
    )
    if len(rare_cols) == 0:
        return []
    tight = (model.tried >= 1) & (model.tried <= tight_max)
    n_tight = int(tight.sum())
    if n_tight < 3:
        return []
    by_cred = model.matrix[:, rare_cols].tocsc()
    holders = np.diff(by_cred.indptr)
    # The long tail of guessed passwords is thousands of values at least, however few one window shows.
    q = float(model.tried[tight].mean()) / max(len(rare_cols), LONG_TAIL_MIN)
    tested = int(np.sum(holders >= 2))
    out: list[SharedCredential] = []
    for c in np.flatnonzero(holders >= 3):
        rows = by_cred.indices[by_cred.indptr[c] : by_cred.indptr[c + 1]]
        tight_rows = rows[tight[rows]]
        if len(tight_rows) < 3 or 10 * len(tight_rows) < 7 * len(rows):
            continue
        log_p = float(binom_logsf(len(tight_rows) - 1, n_tight, min(q, 1.0))) + float(np.log(max(tested, 1)))
        out.append(
            SharedCredential(
                feature=int(model.columns[rare_cols[c]]),
                sources=np.sort(tight_rows).astype(np.int64),
                p_value=float(np.exp(min(0.0, max(log_p, -690.0)))),
            )
        )
    return out


def guess_bursts(frame: SessionFrame, model: CredentialModel, params: AnalysisParameters) -> list[Burst]:
    """Bursts of sources that each try a few uncommon credentials (a credential-stuffing wave),
    by client fingerprint (:func:`coord_core.analysis.bursts.fingerprint_bursts`)."""
    if model.matrix.shape[1] == 0 or frame.n_sessions == 0:
        return []
    df = np.asarray(model.matrix.sum(axis=0)).ravel()
    per_source_rare = np.asarray(model.matrix[:, (df <= 3) & ~model.endemic].sum(axis=1)).ravel()
    has_artefact = frame.left_toolkit_artefact()
    attempts = frame.source_attempts
    eligible = (
        (attempts >= 1)
        & (attempts <= params.stealthy_max_attempts)
        & (model.tried > 0)
        & (per_source_rare == model.tried)
        & ~has_artefact
    )
    return fingerprint_bursts(frame, eligible, params.dictionary_min_sources)
