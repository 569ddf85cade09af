"""Training objectives: softmax, CRF and Bi-MEMM losses over the encoder's tag scores.

Every loss takes emissions [B,T,4], tags [B,T] (0 where padded), mask [B,T]
bool, and transitions [4,4] for every row or [B,4,4], each row's own (its
standard's).
"""

from __future__ import annotations

import torch
from torch import nn


def _per_row(trans, batch: int):
    return trans.expand(batch, 4, 4) if trans.dim() == 2 else trans


def softmax_loss(em, tags, mask, trans):
    return nn.functional.cross_entropy(em[mask], tags[mask])


def crf_loss(em, tags, mask, trans):
    trans = _per_row(trans, em.shape[0])
    rows = torch.arange(em.shape[0]).unsqueeze(1)
    emit = em.gather(2, tags.unsqueeze(2)).squeeze(2)
    pair = mask[:, 1:]
    gold = (emit * mask).sum() + (trans[rows, tags[:, :-1], tags[:, 1:]] * pair).sum()
    alpha = em[:, 0]
    for t in range(1, em.shape[1]):
        step = torch.logsumexp(alpha.unsqueeze(2) + trans + em[:, t].unsqueeze(1), dim=1)
        alpha = torch.where(mask[:, t : t + 1], step, alpha)
    return (torch.logsumexp(alpha, 1).sum() - gold) / mask.sum()


def bimemm_loss(em, tags, mask, trans):
    trans = _per_row(trans, em.shape[0])
    rows = torch.arange(em.shape[0]).unsqueeze(1)
    prev, cur, pair = tags[:, :-1], tags[:, 1:], mask[:, 1:]
    local = torch.log_softmax(em, -1).gather(2, tags.unsqueeze(2)).squeeze(2)
    # trans[b, prev, :] scores the next tag; trans[b, :, cur] the previous one.
    left_to_right = torch.log_softmax(em[:, 1:] + trans[rows, prev], -1).gather(2, cur.unsqueeze(2)).squeeze(2)
    right_to_left = (
        torch.log_softmax(em[:, :-1] + trans.transpose(1, 2)[rows, cur], -1).gather(2, prev.unsqueeze(2)).squeeze(2)
    )
    is_last = mask & ~torch.cat([pair, torch.zeros_like(mask[:, :1])], 1)
    l2r = local[:, 0].sum() + (left_to_right * pair).sum()
    r2l = (local * is_last).sum() + (right_to_left * pair).sum()
    return -(l2r + r2l) / 2 / mask.sum()


LOSSES = {"softmax": softmax_loss, "crf": crf_loss, "bimemm": bimemm_loss}
