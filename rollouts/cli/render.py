"""Text layout of `get rollout` and `list rollouts`, styled with rich.

The layout copies the Argo plugin's (a 17-column header block, then a tree
table NAME/KIND/STATUS/AGE/INFO) so people can read either tool's output.
Rendering returns rich `Text`: colour is a style, never characters, so column
widths are computed on the plain text (with rich's cell widths, which know the
tree symbols) and the same output without colour is byte-for-byte the plain
text the golden tests compare. Whether colour is used is decided by the rich
Console (TTY, --no-color, NO_COLOR, TERM=dumb), not here.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from rollouts.cli.analysis_view import AnalysisRunView
from rollouts.cli.icons import ICON_BAD, ICON_OK, ICON_PROGRESSING, ICON_UNKNOWN, ICON_WAITING, ICON_WARNING
from rollouts.cli.info import ImageView, RolloutView
from rollouts.cli.list_view import ListRow
from rollouts.cli.replicaset_tree import TAG_ACTIVE, TAG_CANARY, TAG_PREVIEW, TAG_STABLE, ReplicaSetView

ICON_ROLLOUT = "⟳"
ICON_REVISION = "#"
ICON_REPLICA_SET = "⧉"
ICON_POD = "□"
ICON_JOB = "⊞"
ICON_ANALYSIS = "α"

_STYLES = {
    ICON_WAITING: "yellow",
    ICON_PROGRESSING: "bright_blue",
    ICON_WARNING: "red",
    ICON_UNKNOWN: "yellow",
    ICON_OK: "green",
    ICON_BAD: "red",
    TAG_CANARY: "yellow",
    TAG_STABLE: "green",
    TAG_ACTIVE: "green",
    TAG_PREVIEW: "bright_blue",
    "Pending": "bright_blue",
    "Running": "bright_blue",
}

_LABEL_WIDTH = 17
_COLUMN_GAP = 2

Cell = Text
Row = list[Cell]


def _styled(text: str, key: str | None = None) -> Text:
    # A styled span (not a base style), so text appended later stays unstyled.
    return Text().append(text, style=_STYLES.get(key if key is not None else text, ""))


def _join(parts: list[Text], separator: str) -> Text:
    return Text(separator).join(parts)


def _field(label: str, value: Text | str) -> Text:
    line = Text(label.ljust(_LABEL_WIDTH))
    line.append_text(value if isinstance(value, Text) else Text(value))
    return line


def _image(image: ImageView) -> Text:
    text = Text(image.image)
    if image.tags:
        text.append(" (")
        text.append_text(_join([_styled(tag) for tag in image.tags], ", "))
        text.append(")")
    return text


def _prefixes(is_last: bool, sub_prefix: str) -> tuple[str, str]:
    if is_last:
        return sub_prefix + "└──", sub_prefix + "   "
    return sub_prefix + "├──", sub_prefix + "│  "


def _status_cell(icon: str, status: str) -> Text:
    cell = _styled(icon)
    cell.append(" " + status)
    return cell


def _replica_set_rows(rs: ReplicaSetView, prefix: str, sub_prefix: str) -> list[Row]:
    info = [_styled(tag) for tag in rs.tags]
    style_key = TAG_CANARY if rs.canary else TAG_ACTIVE if rs.active else TAG_PREVIEW
    if not (rs.canary or rs.active or rs.preview):
        style_key = TAG_STABLE if rs.stable else ""
    if rs.scale_down_delay:
        info.append(Text(f"delay:{rs.scale_down_delay}"))
    name = Text(f"{prefix}{ICON_REPLICA_SET} ")
    name.append_text(_styled(rs.name, style_key))
    rows: list[Row] = [[name, Text("ReplicaSet"), _status_cell(rs.icon, rs.status), Text(rs.age), _join(info, ",")]]
    for index, pod in enumerate(rs.pods):
        pod_prefix, _ = _prefixes(index == len(rs.pods) - 1, sub_prefix)
        pod_info = f"ready:{pod.ready}" + (f",restarts:{pod.restarts}" if pod.restarts else "")
        rows.append(
            [
                Text(f"{pod_prefix}{ICON_POD} {pod.name}"),
                Text("Pod"),
                _status_cell(pod.icon, pod.status),
                Text(pod.age),
                Text(pod_info),
            ]
        )
    return rows


def _analysis_rows(run: AnalysisRunView, prefix: str, sub_prefix: str) -> list[Row]:
    counts = []
    for icon, count in (
        (ICON_OK, run.successful),
        (ICON_BAD, run.failed),
        (ICON_UNKNOWN, run.inconclusive),
        (ICON_WARNING, run.error),
    ):
        if count > 0:
            counts.append(_styled(icon) + Text(f" {count}"))
    name = Text(f"{prefix}{ICON_ANALYSIS} ")
    name.append_text(_styled(run.name, run.status))
    rows: list[Row] = [
        [name, Text("AnalysisRun"), _status_cell(run.icon, run.status), Text(run.age), _join(counts, ",")]
    ]
    for index, job in enumerate(run.jobs):
        job_prefix, _ = _prefixes(index == len(run.jobs) - 1, sub_prefix)
        job_name = Text(f"{job_prefix}{ICON_JOB} ")
        job_name.append_text(_styled(job.name, job.status))
        rows.append([job_name, Text("Job"), _status_cell(job.icon, job.status), Text(job.age), Text("")])
    return rows


def tree_rows(view: RolloutView) -> list[Row]:
    rows: list[Row] = [[Text(x) for x in ("NAME", "KIND", "STATUS", "AGE", "INFO")]]
    rows.append(
        [
            Text(f"{ICON_ROLLOUT} {view.name}"),
            Text("Rollout"),
            _status_cell(view.icon, view.status),
            Text(view.age),
            Text(""),
        ]
    )
    revisions = view.revisions()
    for index, revision in enumerate(revisions):
        prefix, sub_prefix = _prefixes(index == len(revisions) - 1, "")
        rows.append([Text(f"{prefix}{ICON_REVISION} revision:{revision}")] + [Text("")] * 4)
        replica_sets = [rs for rs in view.replica_sets if rs.revision == revision]
        runs = [run for run in view.analysis_runs if run.revision == revision]
        total = len(replica_sets) + len(runs)
        position = 0
        for rs in replica_sets:
            child, child_sub = _prefixes(position == total - 1, sub_prefix)
            rows.extend(_replica_set_rows(rs, child, child_sub))
            position += 1
        for run in runs:
            child, child_sub = _prefixes(position == total - 1, sub_prefix)
            rows.extend(_analysis_rows(run, child, child_sub))
            position += 1
    return rows


def align(rows: list[Row]) -> list[Text]:
    """Pad every column but the last to its widest cell plus a gap (like Go's tabwriter)."""
    if not rows:
        return []
    columns = max(len(row) for row in rows)
    widths = [0] * columns
    for row in rows:
        for index, cell in enumerate(row[:-1]):
            widths[index] = max(widths[index], cell_len(cell.plain))
    lines = []
    for row in rows:
        line = Text()
        for index, cell in enumerate(row):
            line.append_text(cell)
            if index < len(row) - 1:
                line.append(" " * (widths[index] - cell_len(cell.plain) + _COLUMN_GAP))
        line.rstrip()
        lines.append(line)
    return lines


def render_rollout(view: RolloutView) -> Text:
    """The whole `get rollout` output (header block, blank line, tree)."""
    lines = [
        _field("Name:", view.name),
        _field("Namespace:", view.namespace),
        _field("Status:", _status_cell(view.icon, view.status)),
    ]
    if view.message:
        lines.append(_field("Message:", view.message))
    lines.append(_field("Strategy:", view.strategy))
    if view.strategy == "Canary":
        lines.append(_field("  Step:", view.step))
        lines.append(_field("  SetWeight:", view.set_weight))
        lines.append(_field("  ActualWeight:", view.actual_weight))
    for index, image in enumerate(view.images()):
        lines.append(_field("Images:" if index == 0 else "", _image(image)))
    lines.append(Text("Replicas:"))
    for label, value in (
        ("  Desired:", view.desired),
        ("  Current:", view.current),
        ("  Updated:", view.updated),
        ("  Ready:", view.ready),
        ("  Available:", view.available),
    ):
        lines.append(_field(label, str(value)))
    lines.append(Text(""))
    lines.extend(align(tree_rows(view)))
    return Text("\n").join(lines)


LIST_HEADER = (
    "NAME",
    "STRATEGY",
    "STATUS",
    "STEP",
    "SET-WEIGHT",
    "READY",
    "DESIRED",
    "UP-TO-DATE",
    "AVAILABLE",
)
# Argo pads values to roughly the header widths so that rows printed later (watch) line up.
_LIST_MIN_WIDTHS = (10, 9, 12, 4, 10, 5, 7, 10, 9)


def list_cells(row: ListRow, *, all_namespaces: bool, timestamp: str | None = None) -> list[str]:
    cells = [
        row.name,
        row.strategy,
        row.status,
        row.step,
        row.set_weight,
        row.ready,
        str(row.desired),
        str(row.up_to_date),
        str(row.available),
    ]
    cells = [cell.ljust(width) for cell, width in zip(cells, _LIST_MIN_WIDTHS, strict=True)]
    if all_namespaces:
        cells.insert(0, row.namespace.ljust(9))
    if timestamp is not None:
        cells.insert(0, timestamp.ljust(20))
    return cells


def list_header(*, all_namespaces: bool, timestamps: bool) -> list[str]:
    header = list(LIST_HEADER)
    if all_namespaces:
        header.insert(0, "NAMESPACE")
    if timestamps:
        header.insert(0, "TIMESTAMP")
    return header


def render_table(rows: list[list[str]]) -> str:
    return "\n".join(line.plain for line in align([[Text(c) for c in row] for row in rows]))
