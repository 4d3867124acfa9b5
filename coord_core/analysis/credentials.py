"""Credential evidence: how surprising two sources' shared credentials are, and dictionary
partitioning (many sources each trying a few passwords of one list that no one else tries).

Overlap test: two independent sources drawing credentials from the window's popularity
distribution share, on average, lambda = n_b * F_a of them (n = credentials tried, F = their summed
popularity). The weight of a pair is -ln P(Poisson(lambda) >= shared): sharing the top-10
passwords is expected and weighs nothing; sharing three passwords nobody else tried is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import stats

from coord_core.analysis import features as fk
from coord_core.analysis.frame import SessionFrame
from coord_core.analysis.parameters import AnalysisParameters

MAX_WEIGHT = 60.0


@dataclass(frozen=True)
class CredentialModel:
    matrix: sp.csr_matrix  # sources x credential features (cred + cred_common)
    columns: np.ndarray  # feature ids of the matrix columns
    tried: np.ndarray  # credentials per source
    popularity: np.ndarray  # summed share of the source's credentials


def credential_model(frame: SessionFrame, *kinds: fk.KindSpec) -> CredentialModel:
    """The overlap model over credential pairs (default) or other credential-like kinds (stems)."""
    mask = frame.kind_mask(*(kinds or (fk.CREDENTIAL, fk.COMMON_CREDENTIAL)))
    columns = np.flatnonzero(mask)
    matrix = frame.incidence[:, columns].tocsr()
    df = np.asarray(matrix.sum(axis=0)).ravel()
    total = max(df.sum(), 1.0)
    share = df / total
    tried = np.diff(matrix.indptr).astype(np.float64)
    popularity = np.asarray(matrix @ share).ravel()
    return CredentialModel(matrix=matrix, columns=columns, tried=tried, popularity=popularity)


def overlap_weights(model: CredentialModel, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(-ln p of the shared count, shared count) for source pairs (a[i], b[i])."""
    if len(a) == 0:
        return np.empty(0), np.empty(0)
    shared = np.asarray(model.matrix[a].multiply(model.matrix[b]).sum(axis=1)).ravel()
    lam = np.maximum(model.tried[b] * model.popularity[a], model.tried[a] * model.popularity[b])
    lam = np.maximum(lam, 1e-12)
    with np.errstate(divide="ignore"):
        logp = stats.poisson.logsf(shared - 1, lam)
    weight = np.where(shared > 0, np.minimum(-logp, MAX_WEIGHT), 0.0)
    return weight, shared


@dataclass(frozen=True)
class DictionaryGroup:
    """Sources that each tried a few credentials no one else in the window tried."""

    sources: np.ndarray
    profile: tuple[int, ...]  # feature ids of the shared tooling/target profile
    credentials: int
    exclusive_rate_elsewhere: float
    p_value: float

    @property
    def weight(self) -> float:
        return float(min(-np.log(max(self.p_value, 1e-300)), MAX_WEIGHT))


def dictionary_groups(
    frame: SessionFrame, model: CredentialModel, params: AnalysisParameters
) -> list[DictionaryGroup]:
    """Find dictionary partitioning, stratified by the sources' tooling and target profile.

    Null model: an attempt's password is window-exclusive at the rate seen in attempts *outside*
    the group, so a campaign that dominates the window cannot make itself look ordinary.
    """
    if model.matrix.shape[1] == 0:
        return []
    df = np.asarray(model.matrix.sum(axis=0)).ravel()
    exclusive_col = df == 1
    per_source_exclusive = np.asarray(model.matrix[:, exclusive_col].sum(axis=1)).ravel()
    tried = model.tried
    attempts = frame.source_attempts
    artefacts = frame.kind_mask(fk.PAYLOAD, fk.URL, fk.HOST, fk.SSH_KEY)
    has_artefact = np.asarray(frame.incidence[:, np.flatnonzero(artefacts)].sum(axis=1)).ravel() > 0
    eligible = (attempts >= 1) & (attempts <= params.stealthy_max_attempts) & (tried > 0) & ~has_artefact
    all_exclusive = eligible & (per_source_exclusive == tried)
    if all_exclusive.sum() < params.dictionary_min_sources:
        return []
    profile_kinds = frame.kind_mask(fk.CLIENT, fk.HASSH, fk.PORT)
    profile_cols = np.flatnonzero(profile_kinds)
    profiles = frame.incidence[:, profile_cols].tocsr()
    by_profile: dict[tuple[int, ...], list[int]] = {}
    for src in np.flatnonzero(eligible):
        key = tuple(
            int(profile_cols[c]) for c in profiles.indices[profiles.indptr[src] : profiles.indptr[src + 1]]
        )
        by_profile.setdefault(key, []).append(int(src))
    total_attempt_creds = float(tried.sum())
    total_exclusive = float(per_source_exclusive.sum())
    groups: list[DictionaryGroup] = []
    for key in sorted(by_profile):
        candidates = np.asarray(by_profile[key], dtype=np.int64)
        members = candidates[all_exclusive[candidates]]
        if len(members) < params.dictionary_min_sources:
            continue
        outside_creds = total_attempt_creds - float(tried[members].sum())
        outside_exclusive = total_exclusive - float(per_source_exclusive[members].sum())
        if outside_creds < 10:
            continue  # nothing to compare against: no claim either way
        rate = (outside_exclusive + 0.5) / (outside_creds + 1.0)
        # Each eligible source of the profile is all-exclusive with probability rate**tried under
        # the null; how many of them are is a binomial count.
        p0 = float(rate ** float(np.median(tried[members])))
        p_value = float(stats.binom.sf(len(members) - 1, len(candidates), p0))
        groups.append(
            DictionaryGroup(
                sources=members,
                profile=key,
                credentials=int(tried[members].sum()),
                exclusive_rate_elsewhere=round(rate, 6),
                p_value=max(p_value, 1e-300),
            )
        )
    return groups
