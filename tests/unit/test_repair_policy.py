from c2v.models import AttemptKind, AttemptRecord, RenderResult, RenderStatus
from c2v.repair import RepairPolicy, next_step


def rec(kind, n=1):
    return AttemptRecord(n=n, kind=kind, code="x.py", status=RenderStatus.code_error)


def err(status=RenderStatus.code_error, line=12):
    return RenderResult(status=status, section_id="1", error_line=line)


POLICY = RepairPolicy(max_fix_bug_tries=2, max_regenerate_tries=1)


def test_first_failure_gets_a_targeted_fix():
    assert next_step([rec(AttemptKind.generate)], err(), POLICY) is AttemptKind.fix_lines


def test_no_line_means_whole_file_fix():
    assert next_step([rec(AttemptKind.generate)], err(line=None), POLICY) is AttemptKind.fix_file


def test_timeout_goes_to_whole_file_fix():
    assert (
        next_step([rec(AttemptKind.generate)], err(RenderStatus.timeout, None), POLICY)
        is AttemptKind.fix_file
    )


def test_scope_widens_then_regenerates_then_gives_up():
    history = [rec(AttemptKind.generate), rec(AttemptKind.fix_lines)]
    assert next_step(history, err(), POLICY) is AttemptKind.fix_file
    history.append(rec(AttemptKind.fix_file))
    assert next_step(history, err(), POLICY) is AttemptKind.regenerate
    history.append(rec(AttemptKind.regenerate))
    assert next_step(history, err(), POLICY) is AttemptKind.fix_lines
    history += [rec(AttemptKind.fix_lines), rec(AttemptKind.fix_file)]
    assert next_step(history, err(), POLICY) is None


def test_infra_errors_are_never_sent_to_the_model():
    assert next_step([rec(AttemptKind.generate)], err(RenderStatus.infra_error), POLICY) is None


def test_zero_budgets_mean_no_repair():
    policy = RepairPolicy(max_fix_bug_tries=0, max_regenerate_tries=0)
    assert next_step([rec(AttemptKind.generate)], err(), policy) is None
