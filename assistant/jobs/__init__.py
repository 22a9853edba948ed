"""Background jobs the app starts and reads back from HOME: training, GGUF export and evaluation.

Each job is a detached ``ragft KIND ... --json`` (``process``: spawning, the record under
``HOME/jobs``, pid liveness, the log); ``training`` reads a training run's state (registry entry,
metrics.jsonl), ``export`` an export's (its ``--json`` payload). Nothing lives in the starting
process, so a job outlives the browser tab and the app.
"""

from assistant.jobs.evaluation import eval_status, list_evals, start_eval
from assistant.jobs.export import export_status, list_exports, start_export
from assistant.jobs.process import KINDS, jobs_dir, read_job
from assistant.jobs.training import cancel, command_for, list_jobs, losses, start_training, status

__all__ = ["KINDS", "cancel", "command_for", "eval_status", "export_status", "list_evals", "start_eval", "jobs_dir", "list_exports", "list_jobs", "losses",
           "read_job", "start_export", "start_training", "status"]
