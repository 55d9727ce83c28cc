"""Unused eager loading: a select_related / prefetch_related path no row was read through.

A path counts as used when every hop of it was read on at least one row (a path read on some rows
only is used). Nothing is reported for an eager load whose rows never materialised (an empty
page), nor for a hop whose model no row of was built (`recipe__unit_conversions__unit` where no
conversion exists: none could be read), nor for `Prefetch(to_attr=...)`, whose reads no
descriptor sees.
"""

from __future__ import annotations

from dataclasses import replace

from perftoolkit.core.diagnosis.fixes import short
from perftoolkit.core.events import EagerLoad, RequestProfile
from perftoolkit.core.findings import DetectionOptions, Finding, Fix


def detect_unused_eager_loads(profile: RequestProfile, options: DetectionOptions) -> list[Finding]:
    findings = []
    for load in profile.eager_loads:
        if not load.hops or load.model not in profile.loaded:
            continue
        used = 0
        for hop in load.hops:
            if hop not in profile.accessed:
                break
            used += 1
        if used == len(load.hops):
            continue
        if load.hops[used][0] not in profile.loaded:
            # No row of the model the unread hop starts from was built (a prefetch that found
            # none): nothing could read it, so nothing says it is unused.
            continue
        if load.callsite is None and profile.queryset_site is not None:
            load = replace(load, callsite=profile.queryset_site)
        findings.append(_finding(profile, load, used))
    return findings


def _finding(profile: RequestProfile, load: EagerLoad, used: int) -> Finding:
    method = "select_related" if load.kind == "select" else "prefetch_related"
    unused = load.hops[used]
    where = f" at {load.callsite}" if load.callsite else ""
    # Paths between the last one read and the full path load nothing read either; users often
    # list them too (`select_related("a", "a__b", "a__b__c")`), and each keeps its join.
    names = [field for _, field in load.hops]
    between = ", ".join(
        f'"{"__".join(names[:n])}"' for n in range(used + 1 if used else 1, len(names))
    )
    also = f" (and {between}, if listed)" if between else ""
    if used == 0:
        fix = Fix("remove_eager_load", f'remove "{load.path}"{also} from .{method}(...)')
        what = f'{method}("{load.path}"){where} loads {short(unused[0])}.{unused[1]}, which no row reads'
    else:
        kept = "__".join(field for _, field in load.hops[:used])
        fix = Fix(
            "narrow_eager_load",
            f'.{method}("{kept}") instead of .{method}("{load.path}"){also}',
        )
        what = (
            f'{method}("{load.path}"){where} goes on to {short(unused[0])}.{unused[1]}, '
            f'which no row reads; only "{kept}" is used'
        )
    return Finding(
        kind="unused_eager_load",
        method=profile.method,
        route=profile.route,
        model=load.model,
        field=load.hops[0][1],
        path=load.path,
        repeats=1,
        callsite=load.callsite,
        origin=load.callsite,
        fix=fix,
        severity="info",
        message=f"Unused eager load: {what}; the join or extra query costs time for nothing.",
    )
