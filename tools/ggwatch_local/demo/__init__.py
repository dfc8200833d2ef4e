"""`make demo`: the whole ggwatch loop, live, offline, on this machine.

An operator starts bulk deployments through a real boto3 Greengrass client (their lives come from the
simulator: some complete, some fail, some are stopped, one completes with invalid records and
retries) and tracks one unknown ID by hand. Each start reaches the tracker as its CloudTrail event;
the poller runs on a fast schedule; every message SNS delivers is handed to the Slack notifier; and
the terminal shows each transition and each Slack message as it happens, then a summary.

It stops by itself as soon as every deployment is terminal and every message delivered, or at the
time limit; Ctrl-C stops it cleanly. Exit status: 0 all done, 1 limit reached or something failed,
130 interrupted.

The parts: `options` (the command line), `plan` (what the operator does, when), `run` (the loop),
`report` (what it saw), `timeline` (the live terminal lines), `summary` (the closing table) and
`cli` (`main`, Ctrl-C, the exit status).
"""

try:  # a second or so of imports: Ctrl-C during them ends the demo like Ctrl-C after them
    from .cli import main
    from .options import DemoOptions, parse_args
    from .plan import UNKNOWN_LIFE, plan
    from .run import Demo
    from .summary import print_summary
except KeyboardInterrupt:
    raise SystemExit(130) from None

__all__ = ["UNKNOWN_LIFE", "Demo", "DemoOptions", "main", "parse_args", "plan", "print_summary"]
